//! Cookies and the page context. Sessions are rows in the database; the cookie holds a random token
//! whose SHA-256 hash is the row's key, so a copy of the database does not yield live sessions.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use hamroh_domain::org::Lang;
use hamroh_store::{Actor, SessionUser};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Caller;
use crate::error::WebError;
use crate::i18n::{Tr, negotiate};
use crate::proxy::TrustedProxies;

pub const SESSION_COOKIE: &str = "hamroh_session";
pub const LANG_COOKIE: &str = "hamroh_lang";

/// The context of a page request: who asks (if signed in), in which language, from where.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The signed-in user; `None` also while a second factor is pending.
    pub user: Option<SessionUser>,
    /// A user whose password was right and whose second factor is still to come.
    pub pending: Option<SessionUser>,
    pub tr: Tr,
    pub address: Option<String>,
    pub token_hash: Option<Vec<u8>>,
    /// Set when the language was chosen with `?lang=` and must be remembered in a cookie.
    pub chosen_lang: Option<Lang>,
    /// The language this browser chose before (its cookie).
    pub cookie_lang: Option<Lang>,
    pub https: bool,
}

impl Viewer {
    /// A signed-out viewer in the browser's language, for a page shown when nothing else can be
    /// read.
    pub fn signed_out(headers: &HeaderMap) -> Self {
        let lang = crate::i18n::negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
        Self {
            user: None,
            pending: None,
            tr: Tr::new(lang),
            address: None,
            token_hash: None,
            chosen_lang: None,
            cookie_lang: None,
            https: false,
        }
    }

    pub fn actor(&self) -> Actor {
        match &self.user {
            Some(u) => Actor::user(u.id, self.address.clone()),
            None => anonymous(self.address.clone()),
        }
    }
}

pub fn anonymous(address: Option<String>) -> Actor {
    Actor { id: "anonymous".into(), user_id: None, address }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new random token: 244 bits from the operating system's generator.
pub fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

pub fn session_cookie(token: &str, secure: bool, max_age_secs: i64) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("token is hex")
}

pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static("hamroh_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

pub fn lang_cookie(lang: Lang) -> HeaderValue {
    HeaderValue::from_str(&format!("{LANG_COOKIE}={lang}; Path=/; SameSite=Lax; Max-Age=31536000")).expect("ascii")
}

/// The client's address, as the connection (or a trusted proxy in front of it) gives it.
pub fn client_address(parts: &Parts, proxies: &TrustedProxies) -> Option<String> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    Some(proxies.client(peer, &parts.headers).to_string())
}

pub fn is_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").is_some_and(|v| v == "https")
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let token_hash = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty()).map(|t| token_hash(&t));
        let session = match parts.extensions.get::<Caller>().and_then(|c| c.user.clone()) {
            Some(user) => Some(user),
            None => match &token_hash {
                Some(hash) => state.store.session_user(hash, state.limits).await?,
                None => None,
            },
        };
        let (mut user, pending) = match session {
            Some(u) if u.second_factor_pending => (None, Some(u)),
            other => (other, None),
        };
        let chosen_lang = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
            .and_then(|l| l.parse::<Lang>().ok());
        // A signed-in user's choice of language is kept with the user, for every device.
        if let (Some(lang), Some(u)) = (chosen_lang, user.as_mut())
            && u.lang != lang
        {
            state.store.set_user_lang(&Actor::user(u.id, client_address(parts, &state.proxies)), u.id, lang).await?;
            u.lang = lang;
        }
        let cookie_lang = cookie(&parts.headers, LANG_COOKIE).and_then(|l| l.parse().ok());
        let lang = chosen_lang
            .or_else(|| user.as_ref().map(|u| u.lang))
            .or(cookie_lang)
            .unwrap_or_else(|| negotiate(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())));
        Ok(Self {
            user,
            pending,
            tr: Tr::new(lang),
            address: client_address(parts, &state.proxies),
            token_hash,
            chosen_lang,
            cookie_lang,
            https: is_https(&parts.headers),
        })
    }
}
