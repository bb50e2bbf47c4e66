//! Authentication and the per-route rule. Every route carries a [`Rule`] (who may call it) and the
//! [`Credentials`] it takes (see `routes.rs` and `api/mod.rs`); both are checked here before the
//! handler runs. Pages take a browser session only; API routes take a session or an API token
//! that carries the scope the route needs. Whether a particular person's record may be seen is
//! decided below the HTTP layer, by the store's gate.

use axum::extract::{FromRequestParts, Request};
use axum::http::Method;
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::access::{Principal, Scope};
use hamroh_domain::org::Role;
use hamroh_store::SessionUser;

use crate::AppState;
use crate::error::WebError;
use crate::session::{SESSION_COOKIE, Viewer, client_address, cookie, token_hash};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user (or API token).
    SignedIn,
    /// A signed-in user holding one of these roles.
    Roles(&'static [Role]),
}

pub const ADMIN: &[Role] = &[Role::Admin];
pub const AUDITORS: &[Role] = &[Role::Coordinator, Role::Admin];
/// Who sees the indicators (aggregates only, never a person).
pub const EVIDENCE_READERS: &[Role] = &[Role::Analyst, Role::Coordinator, Role::Admin];
/// Who maintains the service directory (DESIGN.md: coordinators).
pub const DIRECTORY_KEEPERS: &[Role] = &[Role::Coordinator];
/// Who chases escalations across organisations.
pub const COORDINATORS: &[Role] = &[Role::Coordinator];

/// Which credentials a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// A browser session only (every page: administration, directory upkeep, the account). An
    /// API token is refused, whatever its scopes.
    Session,
    /// A session, or an API token carrying the scope [`TokenScope`] names.
    SessionOrToken(TokenScope),
}

/// The scope an API token needs for a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// Any token of the user (who am I).
    Any,
    /// People's records: `persons:read` to read (GET), `persons:write` for anything else.
    Persons,
    /// This one scope, whatever the method.
    Only(Scope),
}

impl TokenScope {
    /// The scope a request with `method` needs, if any.
    pub fn needed(self, method: &Method) -> Option<Scope> {
        match self {
            Self::Any => None,
            Self::Persons if method == Method::GET || method == Method::HEAD => Some(Scope::PersonsRead),
            Self::Persons => Some(Scope::PersonsWrite),
            Self::Only(scope) => Some(scope),
        }
    }
}

/// The principal a request acts for: a signed-in user, or the owner of an API token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The session's user; `None` for an API token.
    pub user: Option<SessionUser>,
    pub address: Option<String>,
    /// The user has enrolled a second factor.
    pub has_totp: bool,
}

impl Caller {
    pub fn gate<'a>(&'a self, state: &'a AppState) -> hamroh_store::Gate<'a> {
        state.store.gate(&self.principal, self.address.clone())
    }
}

/// Finds the caller from an `Authorization: Bearer` token (where `tokens` allows one) or the
/// session cookie.
async fn resolve(parts: &Parts, state: &AppState, tokens: bool) -> Result<Option<Caller>, WebError> {
    let address = client_address(parts, &state.proxies);
    if tokens && let Some(auth) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let Some(token) = auth.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let found = state.store.token_principal(&token_hash(token)).await?;
        return Ok(found.map(|t| Caller { principal: t.principal, user: None, address, has_totp: t.has_totp }));
    }
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else { return Ok(None) };
    let user = state.store.session_user(&token_hash(&token), state.limits).await?;
    Ok(user.filter(|u| !u.second_factor_pending).map(|u| Caller {
        principal: u.principal(),
        has_totp: u.has_totp,
        user: Some(u),
        address,
    }))
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// A refusal: the API's JSON error, or for a page the log-in form (401) or a localised error page.
async fn refuse(parts: &mut Parts, state: &AppState, err: WebError) -> Response {
    let path = parts.uri.path().to_owned();
    if is_api(&path) {
        return err.into_response();
    }
    if let WebError::Unauthenticated { .. } = err {
        let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    match Viewer::from_request_parts(parts, state).await {
        Ok(viewer) => crate::pages::error_page(&viewer, err),
        Err(e) => e.into_response(),
    }
}

/// Checks `rule` and `credentials` for the request, and hands the resolved caller on to the
/// handler.
pub async fn enforce(rule: Rule, credentials: Credentials, state: AppState, req: Request, next: Next) -> Response {
    if rule == Rule::Public {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    match admit(rule, credentials, &state, &parts).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(Refusal::EnrolFirst) => Redirect::to("/account#totp").into_response(),
        Err(Refusal::Error(err)) => refuse(&mut parts, &state, err).await,
    }
}

enum Refusal {
    Error(WebError),
    /// A page for an administrator who must enrol a second factor first.
    EnrolFirst,
}

impl From<WebError> for Refusal {
    fn from(e: WebError) -> Self {
        Self::Error(e)
    }
}

fn forbidden(code: &'static str, message: &str) -> Refusal {
    Refusal::Error(WebError::Forbidden { code, message: message.to_owned() })
}

/// The caller, if `rule` and `credentials` let them in.
async fn admit(rule: Rule, credentials: Credentials, state: &AppState, parts: &Parts) -> Result<Caller, Refusal> {
    let path = parts.uri.path();
    let bearer = parts.headers.contains_key(header::AUTHORIZATION);
    if credentials == Credentials::Session && bearer {
        return Err(forbidden("session_required", "this page takes a signed-in session, not an API token"));
    }
    let Some(caller) = resolve(parts, state, credentials != Credentials::Session).await? else {
        return Err(WebError::Unauthenticated { message: "sign in, or send an API token".into() }.into());
    };
    if let Rule::Roles(roles) = rule
        && !caller.principal.has_any_role(roles)
    {
        return Err(forbidden("forbidden", "your role does not allow this"));
    }
    if let Credentials::SessionOrToken(scope) = credentials
        && let Some(needed) = scope.needed(&parts.method)
        && !caller.principal.has_scope(needed)
    {
        let message = format!("this token lacks the scope `{needed}`");
        return Err(Refusal::Error(WebError::Forbidden { code: "scope_required", message }));
    }
    // A deployment may require administrators to use a second factor: until they have enrolled,
    // they can only enrol (or log out), and their tokens can do nothing.
    let admin_without_totp = caller.principal.has_role(Role::Admin) && !caller.has_totp;
    if state.require_admin_totp && admin_without_totp && !path.starts_with("/account") && path != "/logout" {
        return Err(if is_api(path) || caller.user.is_none() {
            forbidden("totp_required", "administrators must enrol a second factor first")
        } else {
            Refusal::EnrolFirst
        });
    }
    Ok(caller)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        resolve(parts, state, is_api(parts.uri.path()))
            .await?
            .ok_or(WebError::Unauthenticated { message: "sign in, or send an API token".into() })
    }
}
