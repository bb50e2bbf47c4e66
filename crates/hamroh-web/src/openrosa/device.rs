//! Who a device acts for: the user behind a device key in the server address, or a user who
//! gives a username and password (HTTP Basic) over TLS. Failures are throttled as failed log-ins
//! are; a user with a second factor must use a device key, since a device cannot give the code.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hamroh_domain::access::{CARE_ROLES, Principal, Scope};
use hamroh_domain::org::Lang;
use hamroh_store::{Actor, NewAuditEvent};

use super::{answer, failure};
use crate::AppState;
use crate::i18n::{Tr, negotiate};
use crate::session::{client_address, token_hash};

/// The user a device acts for. A key's token keeps its id (for the audit trail) and is given the
/// scopes the gate asks of a submission: to write the record, and to read whom a registration
/// may duplicate. Nothing read is ever sent back to the device.
pub(crate) struct Device {
    pub principal: Principal,
    pub address: Option<String>,
    pub lang: Lang,
    /// The server address's path (`/openrosa/key/KEY` or `/openrosa`), for the download URLs.
    pub base: String,
}

impl Device {
    pub fn gate<'a>(&'a self, state: &'a AppState) -> hamroh_store::Gate<'a> {
        state.store.gate(&self.principal, self.address.clone())
    }

    pub fn tr(&self) -> Tr {
        Tr::new(self.lang)
    }
}

impl FromRequestParts<AppState> for Device {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let params = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let key = params.0.into_iter().find(|(name, _)| name == "key").map(|(_, k)| k);
        let lang = negotiate(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
        let address = client_address(parts, &state.proxies);
        let tr = Tr::new(lang);
        let (principal, base) = match key {
            Some(key) => (keyed(state, &tr, &key, address.as_deref()).await?, format!("/openrosa/key/{key}")),
            None => (password(state, &tr, parts, address.clone()).await?, "/openrosa".to_owned()),
        };
        if !principal.has_any_role(CARE_ROLES) {
            return Err(answer(StatusCode::FORBIDDEN, &tr.get("openrosa-role")));
        }
        Ok(Device { principal, address, lang, base })
    }
}

fn throttled(tr: &Tr, wait: std::time::Duration) -> Response {
    let mut r = answer(StatusCode::TOO_MANY_REQUESTS, &tr.get("openrosa-throttled"));
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
    r
}

/// The user behind a live device key. Failed keys are throttled per key from an address, and
/// per address.
async fn keyed(state: &AppState, tr: &Tr, key: &str, address: Option<&str>) -> Result<Principal, Response> {
    let hash = token_hash(key);
    let throttle_key = format!("openrosa:{}", hex::encode(&hash[..8]));
    if let Some(wait) = state.throttle.check(&throttle_key, address) {
        return Err(throttled(tr, wait));
    }
    let found = state.store.token_principal(&hash).await.map_err(|e| failure(tr, e.into()))?;
    let Some(found) = found.filter(|t| t.principal.has_scope(Scope::OpenRosa)) else {
        state.throttle.failed(&throttle_key, address);
        let mut r = answer(StatusCode::UNAUTHORIZED, &tr.get("openrosa-unknown-key"));
        // Not a challenge a client could answer with a password: the key is in the address.
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"hamroh\""));
        return Err(r);
    };
    state.throttle.succeeded(&throttle_key, address);
    let mut principal = found.principal;
    if let Some(token) = principal.token.as_mut() {
        token.scopes = vec![Scope::PersonsRead, Scope::PersonsWrite];
    }
    Ok(principal)
}

/// A challenge for a username and password.
fn challenge(tr: &Tr, key: &str) -> Response {
    let mut r = answer(StatusCode::UNAUTHORIZED, &tr.get(key));
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Hamroh\", charset=\"UTF-8\""));
    r
}

/// The username and password of an `Authorization: Basic` header.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.trim().to_owned(), pass.to_owned()))
}

/// A user who signs in with HTTP Basic, over TLS only: a password sent in the clear would be
/// anyone's on the network.
async fn password(state: &AppState, tr: &Tr, parts: &Parts, address: Option<String>) -> Result<Principal, Response> {
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if !state.proxies.came_over_tls(peer, &parts.headers) {
        return Err(answer(StatusCode::UNAUTHORIZED, &tr.get("openrosa-password-needs-tls")));
    }
    let Some((username, password)) = basic(&parts.headers) else {
        return Err(challenge(tr, "openrosa-sign-in"));
    };
    if let Some(wait) = state.throttle.check(&username, address.as_deref()) {
        return Err(throttled(tr, wait));
    }
    let user = state.store.user_for_login(&username).await.map_err(|e| failure(tr, e.into()))?;
    let hash = user.as_ref().map_or_else(|| crate::password::decoy_hash().to_owned(), |u| u.password_hash.clone());
    state.throttle.hashing();
    let verified =
        tokio::task::spawn_blocking(move || crate::password::verify(&password, &hash)).await.unwrap_or(false);
    let actor = Actor { id: "openrosa".into(), user_id: None, address: address.clone() };
    match user {
        Some(user) if verified && !user.disabled => {
            state.throttle.succeeded(&username, address.as_deref());
            if user.totp_secret.is_some() {
                return Err(answer(StatusCode::FORBIDDEN, &tr.get("openrosa-second-factor")));
            }
            let principal = state.store.user_principal(user.id).await.map_err(|e| failure(tr, e.into()))?;
            principal.ok_or_else(|| challenge(tr, "openrosa-sign-in"))
        }
        user => {
            state.throttle.failed(&username, address.as_deref());
            let event = NewAuditEvent {
                action: "login",
                entity: "user",
                entity_id: user.map(|u| u.id.to_string()),
                person_id: None,
                outcome: "denied",
                detail: Some("openrosa".into()),
            };
            state.store.audit(&actor, &[event]).await.map_err(|e| failure(tr, e.into()))?;
            Err(challenge(tr, "openrosa-sign-in"))
        }
    }
}
