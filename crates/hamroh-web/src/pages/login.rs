//! Log-in (password, then the second factor where the user has one) and log-out.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_store::{Actor, NewAuditEvent};
use serde::Deserialize;

use super::{Chrome, page};
use crate::AppState;
use crate::error::WebError;
use crate::session::{self, Viewer};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    error: Option<String>,
    username: String,
    next: String,
}

/// Where to go after log-in: a path on this site only, never another site. Browsers drop tabs and
/// line breaks from an address and read `\` as `/`, so `/\t/evil.example` would lead off-site:
/// control characters and backslashes are removed before the path is checked. A line break is
/// refused outright (it could only be an attempt to split the `Location` header).
fn safe_next(next: Option<&str>) -> Result<String, WebError> {
    let Some(next) = next else { return Ok("/".to_owned()) };
    if next.contains(['\r', '\n']) {
        return Err(WebError::BadRequest {
            code: "invalid_next",
            message: "the address to go to holds a line break".into(),
        });
    }
    let cleaned: String = next.chars().filter(|c| !c.is_control() && *c != '\\').collect();
    let same_site = cleaned.starts_with('/') && !cleaned.starts_with("//");
    Ok(if same_site { cleaned } else { "/".to_owned() })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn after_log_in_only_a_path_on_this_site() {
        let next = |n: &str| safe_next(Some(n)).unwrap();
        assert_eq!(next("/persons?q=1"), "/persons?q=1");
        for off_site in
            ["//evil.example", "/\t/evil.example", "/\\/evil.example", "https://evil.example", "/\u{0}/evil.example"]
        {
            assert_eq!(next(off_site), "/", "{off_site:?}");
        }
        // What is left is a path here, never a host.
        assert_eq!(next("/\\evil.example"), "/evil.example");
        assert!(safe_next(Some("/\r\nSet-Cookie: x=1")).is_err());
        assert_eq!(safe_next(None).unwrap(), "/");
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    c: Chrome,
    failed: bool,
}

pub async fn page_get(viewer: Viewer, Query(query): Query<NextQuery>) -> Response {
    let next = match safe_next(query.next.as_deref()) {
        Ok(next) => next,
        Err(e) => return super::error_page(&viewer, e),
    };
    if viewer.user.is_some() {
        return Redirect::to(&next).into_response();
    }
    let template = LoginPage { c: Chrome::new(&viewer), error: None, username: String::new(), next };
    page(&viewer, StatusCode::OK, &template)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

fn login_again(viewer: &Viewer, status: StatusCode, message: String, username: String, next: String) -> Response {
    let template = LoginPage { c: Chrome::new(viewer), error: Some(message), username, next };
    page(viewer, status, &template)
}

pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let username = form.username.trim().to_owned();
    let next = match safe_next(form.next.as_deref()) {
        Ok(next) => next,
        Err(e) => return Ok(super::error_page(&viewer, e)),
    };
    let address = viewer.address.as_deref();
    // Throttle before any hash is computed: a flood costs us nothing.
    if let Some(wait) = state.throttle.check(&username, address) {
        let event = NewAuditEvent {
            action: "login",
            entity: "user",
            entity_id: None,
            person_id: None,
            outcome: "throttled",
            detail: None,
        };
        state.store.audit(&viewer.actor(), &[event]).await?;
        let secs = wait.as_secs().max(1);
        let message = viewer.tr.with("login-throttled", &[("seconds", secs.to_string())]);
        let mut response = login_again(&viewer, StatusCode::TOO_MANY_REQUESTS, message, username, next);
        response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        return Ok(response);
    }
    let user = state.store.user_for_login(&username).await?;
    let hash = user.as_ref().map_or_else(|| crate::password::decoy_hash().to_owned(), |u| u.password_hash.clone());
    let password = form.password;
    state.throttle.hashing();
    let verified = tokio::task::spawn_blocking(move || crate::password::verify(&password, &hash))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    match user {
        Some(user) if verified && !user.disabled => {
            state.throttle.succeeded(&username, address);
            // A new session id at every log-in; any session the browser held ends.
            if let Some(old) = &viewer.token_hash {
                state.store.end_session(&viewer.actor(), old).await?;
            }
            let token = session::new_token();
            let actor = Actor::user(user.id, viewer.address.clone());
            let pending = user.totp_secret.is_some();
            // The language chosen on the log-in page becomes the user's.
            if let Some(lang) = viewer.chosen_lang.or(viewer.cookie_lang) {
                state.store.set_user_lang(&actor, user.id, lang).await?;
            }
            state.store.create_session(&actor, user.id, &session::token_hash(&token), state.limits, pending).await?;
            let mut headers = HeaderMap::new();
            headers.insert(
                header::SET_COOKIE,
                session::session_cookie(&token, viewer.https, state.limits.absolute_ms / 1000),
            );
            Ok((headers, Redirect::to(if pending { "/login/totp" } else { &next })).into_response())
        }
        _ => {
            state.throttle.failed(&username, address);
            let event = NewAuditEvent {
                action: "login",
                entity: "user",
                entity_id: user.as_ref().map(|u| u.id.to_string()),
                person_id: None,
                outcome: "denied",
                detail: user.as_ref().filter(|u| u.disabled).map(|_| "disabled".to_owned()),
            };
            state.store.audit(&viewer.actor(), &[event]).await?;
            Ok(login_again(&viewer, StatusCode::UNAUTHORIZED, viewer.tr.get("login-failed"), username, next))
        }
    }
}

pub async fn totp_get(viewer: Viewer) -> Response {
    if viewer.pending.is_none() {
        return Redirect::to("/login").into_response();
    }
    page(&viewer, StatusCode::OK, &TotpPage { c: Chrome::new(&viewer), failed: false })
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn totp_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let (Some(user), Some(old_hash)) = (&viewer.pending, &viewer.token_hash) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let key = format!("totp:{}", user.id);
    if state.throttle.check(&key, viewer.address.as_deref()).is_some() {
        return Ok(page(&viewer, StatusCode::TOO_MANY_REQUESTS, &TotpPage { c: Chrome::new(&viewer), failed: true }));
    }
    let secret = state.store.user_for_login(&user.username).await?.and_then(|u| u.totp_secret);
    let actor = Actor::user(user.id, viewer.address.clone());
    if secret.is_some_and(|s| crate::totp::verify(&s, &user.username, form.code.trim())) {
        state.throttle.succeeded(&key, viewer.address.as_deref());
        let token = session::new_token();
        state.store.complete_second_factor(&actor, old_hash, &session::token_hash(&token)).await?;
        let mut headers = HeaderMap::new();
        headers
            .insert(header::SET_COOKIE, session::session_cookie(&token, viewer.https, state.limits.absolute_ms / 1000));
        return Ok((headers, Redirect::to("/")).into_response());
    }
    state.throttle.failed(&key, viewer.address.as_deref());
    let event = NewAuditEvent::ok("login", "user", user.id);
    state.store.audit(&actor, &[NewAuditEvent { outcome: "denied", detail: Some("totp".into()), ..event }]).await?;
    Ok(page(&viewer, StatusCode::UNAUTHORIZED, &TotpPage { c: Chrome::new(&viewer), failed: true }))
}

pub async fn logout(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    if let Some(hash) = &viewer.token_hash {
        state.store.end_session(&viewer.actor(), hash).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session::clear_session_cookie());
    Ok((headers, Redirect::to("/login")).into_response())
}
