//! The client's address behind a reverse proxy. `X-Forwarded-For` is believed only when the
//! connection comes from a proxy the deployment names (`--trusted-proxy CIDR`); otherwise anyone
//! could claim any address and so escape log-in throttling or write a false address into the
//! audit trail.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The networks whose connections are the deployment's own reverse proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// Whether the request reached the deployment over TLS: the connection is from a trusted
    /// proxy that says so (`X-Forwarded-Proto: https`). Nobody else's word counts.
    pub fn came_over_tls(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        peer.is_some_and(|p| self.trusts(p)) && headers.get("x-forwarded-proto").is_some_and(|v| v == "https")
    }

    /// The client's address: the connection's, or, when the connection is from a trusted proxy,
    /// the nearest address in `X-Forwarded-For` that is not itself a trusted proxy (each proxy
    /// appends the address it was reached from, so addresses further left can be forged).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|a| IpAddr::from_str(a.trim()).ok())
            .collect::<Option<_>>()
            .unwrap_or_default();
        forwarded.iter().rev().copied().find(|ip| !self.trusts(*ip)).or(forwarded.first().copied()).unwrap_or(peer)
    }
}

/// A `--trusted-proxy` value: a network (`10.0.0.0/8`) or one address (`127.0.0.1`).
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    IpNet::from_str(text)
        .or_else(|_| IpAddr::from_str(text).map(IpNet::from))
        .map_err(|_| format!("`{text}` is not an address or a network such as 10.0.0.0/8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::new(vec![parse_network("10.0.0.0/8").unwrap()]);
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(proxies.client(proxy, &headers("203.0.113.7")), client);
        // A forged entry on the left is passed over: the proxy appended the real one.
        assert_eq!(proxies.client(proxy, &headers("198.51.100.1, 203.0.113.7, 10.9.9.9")), client);
        // Straight from the internet, the header is ignored.
        assert_eq!(proxies.client(client, &headers("198.51.100.1")), client);
        assert_eq!(TrustedProxies::default().client(proxy, &headers("198.51.100.1")), proxy);
        assert_eq!(proxies.client(proxy, &headers("not an address")), proxy);
        assert_eq!(proxies.client(proxy, &HeaderMap::new()), proxy);
    }

    #[test]
    fn a_proxy_setting_is_a_network_or_an_address() {
        assert_eq!(parse_network("127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        assert!(parse_network("10.0.0.0/8").is_ok());
        assert!(parse_network("proxy.example").is_err());
    }
}
