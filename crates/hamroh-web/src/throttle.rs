//! Log-in throttling, checked before any password hash is computed: after repeated failures for one
//! account from one address, or from one address across accounts, further attempts from that
//! address are refused for a while, the wait doubling with each further failure. An account is
//! never locked for everyone: the right password from an address that has not failed is always
//! let through, so that nobody can lock a colleague out by typing wrong passwords.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// Failures allowed for one account from one address before that address is held back for it.
    pub per_account: u32,
    /// Failures allowed from one address before it is held back.
    pub per_address: u32,
    /// The first hold; each further failure doubles it, up to `max_hold`.
    pub hold: Duration,
    pub max_hold: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 20,
            hold: Duration::from_secs(30),
            max_hold: Duration::from_secs(15 * 60),
            window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Record {
    failures: u32,
    last: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Throttle {
    limits: ThrottleLimits,
    accounts: Mutex<HashMap<String, Record>>,
    addresses: Mutex<HashMap<String, Record>>,
    /// Password hashes computed for log-ins: what a flood would cost, were it not held back.
    hashes: std::sync::atomic::AtomicU64,
}

impl Throttle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self { limits, ..Self::default() }
    }

    fn wait(&self, record: Option<&Record>, allowed: u32, now: Instant) -> Option<Duration> {
        let r = record?;
        let last = r.last?;
        if now.duration_since(last) > self.limits.window || r.failures < allowed {
            return None;
        }
        let doublings = (r.failures - allowed).min(16);
        let hold = self.limits.hold.saturating_mul(1 << doublings).min(self.limits.max_hold);
        let until = last + hold;
        (until > now).then(|| until - now)
    }

    /// How long this account must still wait from this address, if it must.
    pub fn check(&self, account: &str, address: Option<&str>) -> Option<Duration> {
        let now = Instant::now();
        let account_wait = {
            let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
            self.wait(accounts.get(&pair(account, address)), self.limits.per_account, now)
        };
        let address_wait = address.and_then(|a| {
            let addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
            self.wait(addresses.get(a), self.limits.per_address, now)
        });
        account_wait.max(address_wait)
    }

    pub fn failed(&self, account: &str, address: Option<&str>) {
        let now = Instant::now();
        let bump = |map: &Mutex<HashMap<String, Record>>, key: String| {
            let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
            // Keep memory bounded under a flood of distinct names.
            if map.len() > 100_000 {
                map.retain(|_, r| r.last.is_some_and(|l| now.duration_since(l) < self.limits.window));
            }
            let r = map.entry(key).or_default();
            if r.last.is_some_and(|l| now.duration_since(l) > self.limits.window) {
                r.failures = 0;
            }
            r.failures += 1;
            r.last = Some(now);
        };
        bump(&self.accounts, pair(account, address));
        if let Some(a) = address {
            bump(&self.addresses, a.to_owned());
        }
    }

    /// Counts one password hash computed for a log-in (after [`Throttle::check`] let it through).
    pub fn hashing(&self) {
        self.hashes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many password hashes log-ins have computed.
    pub fn hashes_computed(&self) -> u64 {
        self.hashes.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn succeeded(&self, account: &str, address: Option<&str>) {
        self.accounts.lock().unwrap_or_else(|e| e.into_inner()).remove(&pair(account, address));
    }
}

/// The key of an account's failures from one address.
fn pair(account: &str, address: Option<&str>) -> String {
    format!("{}\n{}", account.to_lowercase(), address.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_held_back_from_the_failing_address_only() {
        let t = Throttle::new(ThrottleLimits::default());
        for _ in 0..4 {
            t.failed("malika", Some("10.0.0.1"));
            assert!(t.check("malika", Some("10.0.0.1")).is_none());
        }
        t.failed("malika", Some("10.0.0.1"));
        let wait = t.check("Malika", Some("10.0.0.1")).expect("held back, whatever the case");
        assert!(wait > Duration::from_secs(20));
        assert!(t.check("malika", Some("10.0.0.9")).is_none(), "Malika herself, from her own desk, gets in");
        assert!(t.check("farhod", Some("10.0.0.2")).is_none());
        t.failed("malika", Some("10.0.0.1"));
        assert!(t.check("malika", Some("10.0.0.1")).unwrap() > Duration::from_secs(40), "the hold doubles");
    }

    #[test]
    fn an_address_is_held_back_after_failures_across_accounts() {
        let t = Throttle::new(ThrottleLimits::default());
        for n in 0..20 {
            t.failed(&format!("user{n}"), Some("10.0.0.7"));
        }
        assert!(t.check("someone-new", Some("10.0.0.7")).is_some());
        assert!(t.check("someone-new", Some("10.0.0.8")).is_none());
    }

    #[test]
    fn success_clears_the_account() {
        let t = Throttle::new(ThrottleLimits::default());
        for _ in 0..3 {
            t.failed("nodira", None);
        }
        t.succeeded("nodira", None);
        for _ in 0..4 {
            t.failed("nodira", None);
        }
        assert!(t.check("nodira", None).is_none());
    }
}
