//! Authentication and the per-route rule. Every route carries a [`Rule`] (see `routes.rs`); the
//! rule is checked here before the handler runs. Whether a particular person's record may be seen
//! is decided below the HTTP layer, by the store's gate.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::access::Principal;
use hamroh_domain::org::Role;
use hamroh_store::SessionUser;

use crate::AppState;
use crate::error::WebError;
use crate::session::{SESSION_COOKIE, client_address, cookie, token_hash};

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
/// Who maintains the service directory (DESIGN.md: coordinators).
/// Who sees the indicators (aggregates only, never a person).
pub const EVIDENCE_READERS: &[Role] = &[Role::Analyst, Role::Coordinator, Role::Admin];
pub const DIRECTORY_KEEPERS: &[Role] = &[Role::Coordinator];

/// The principal a request acts for: a signed-in user, or the owner of an API token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The session's user; `None` for an API token.
    pub user: Option<SessionUser>,
    pub address: Option<String>,
}

impl Caller {
    pub fn gate<'a>(&'a self, state: &'a AppState) -> hamroh_store::Gate<'a> {
        state.store.gate(&self.principal, self.address.clone())
    }
}

/// Finds the caller from an `Authorization: Bearer` token or the session cookie.
async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Caller>, WebError> {
    let address = client_address(parts);
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let Some(token) = auth.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let principal = state.store.token_principal(&token_hash(token)).await?;
        return Ok(principal.map(|principal| Caller { principal, user: None, address }));
    }
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty()) else { return Ok(None) };
    let user = state.store.session_user(&token_hash(&token), state.limits).await?;
    Ok(user.filter(|u| !u.second_factor_pending).map(|u| Caller { principal: u.principal(), user: Some(u), address }))
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn refuse(path: &str, status: StatusCode, code: &'static str, message: &str) -> Response {
    if is_api(path) {
        let err = match status {
            StatusCode::UNAUTHORIZED => WebError::Unauthenticated { message: message.to_owned() },
            _ => WebError::Forbidden { code, message: message.to_owned() },
        };
        return err.into_response();
    }
    match status {
        StatusCode::UNAUTHORIZED => {
            let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
            Redirect::to(&format!("/login?next={next}")).into_response()
        }
        _ => (status, message.to_owned()).into_response(),
    }
}

/// Checks `rule` for the request, and hands the resolved caller on to the handler.
pub async fn enforce(rule: Rule, state: AppState, mut req: Request, next: Next) -> Response {
    if rule == Rule::Public {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let (mut parts, body) = req.into_parts();
    let caller = match resolve(&parts, &state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let Some(caller) = caller else {
        return refuse(&path, StatusCode::UNAUTHORIZED, "unauthenticated", "sign in, or send an API token");
    };
    if let Rule::Roles(roles) = rule
        && !caller.principal.has_any_role(roles)
    {
        return refuse(&path, StatusCode::FORBIDDEN, "forbidden", "your role does not allow this");
    }
    // A deployment may require administrators to use a second factor: until they have enrolled,
    // they can only enrol (or log out).
    let admin_without_totp = caller.user.as_ref().is_some_and(|u| u.has_role(Role::Admin) && !u.has_totp);
    if state.require_admin_totp && admin_without_totp && !path.starts_with("/account") && path != "/logout" {
        return if is_api(&path) {
            WebError::Forbidden {
                code: "totp_required",
                message: "administrators must enrol a second factor first".into(),
            }
            .into_response()
        } else {
            Redirect::to("/account#totp").into_response()
        };
    }
    parts.extensions.insert(caller);
    req = Request::from_parts(parts, body);
    next.run(req).await
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        resolve(parts, state)
            .await?
            .ok_or(WebError::Unauthenticated { message: "sign in, or send an API token".into() })
    }
}
