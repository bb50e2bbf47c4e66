//! The signed-in user's own account: interface language, password, second factor, API tokens,
//! sessions. What could take the account over (a new password, a new second factor) needs the
//! current password, and a new second factor also a code from the current one: a session left
//! open on a shared computer is not enough.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::access::Scope;
use hamroh_domain::org::Lang;
use hamroh_store::SessionUser;
use serde::Deserialize;
use uuid::Uuid;

use super::{Chrome, error_page, page};
use crate::AppState;
use crate::error::WebError;
use crate::session::Viewer;

pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub scopes: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    notice: Option<String>,
    new_token: Option<String>,
    error: Option<String>,
    has_totp: bool,
    totp_secret: String,
    totp_url: String,
    tokens: Vec<TokenRow>,
    scopes: Vec<&'static str>,
    /// A device key just created: the server address to set the device up with, and the QR
    /// code ODK Collect scans for it.
    device: Option<(String, String)>,
    /// The user works with people's records, so may set up a device.
    may_use_devices: bool,
}

fn signed_in(viewer: &Viewer) -> Result<&SessionUser, WebError> {
    viewer.user.as_ref().ok_or(WebError::Unauthenticated { message: "sign in first".into() })
}

async fn account_page(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<String>,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<AccountPage, WebError> {
    let user = signed_in(viewer)?;
    let secret = offered_secret(state, viewer).await?;
    let tokens = state
        .store
        .api_tokens_of(user.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            scopes: t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let template = AccountPage {
        c: Chrome::new(viewer),
        notice,
        new_token,
        error,
        has_totp: user.has_totp,
        totp_url: crate::totp::url(&secret, &user.username),
        totp_secret: secret,
        tokens,
        scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        device: None,
        may_use_devices: viewer
            .user
            .as_ref()
            .is_some_and(|u| u.principal().has_any_role(hamroh_domain::access::CARE_ROLES)),
    };
    Ok(template)
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<String>,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let template = account_page(state, viewer, notice, new_token, error).await?;
    Ok(page(viewer, status, &template))
}

/// The second-factor secret this session is offered: the server chooses it and keeps it with the
/// session, so that the form cannot bring a secret of the client's choosing.
async fn offered_secret(state: &AppState, viewer: &Viewer) -> Result<String, WebError> {
    let hash = viewer.token_hash.as_deref().ok_or(WebError::Unauthenticated { message: "sign in first".into() })?;
    if let Some(secret) = state.store.totp_offer(hash).await? {
        return Ok(secret);
    }
    let secret = crate::totp::new_secret();
    state.store.offer_totp(hash, &secret).await?;
    Ok(secret)
}

/// Whether `password` is the user's current one (hashed off the async threads).
async fn password_is_right(state: &AppState, username: &str, password: String) -> Result<bool, WebError> {
    let Some(stored) = state.store.user_for_login(username).await? else { return Ok(false) };
    let hash = stored.password_hash;
    tokio::task::spawn_blocking(move || crate::password::verify(&password, &hash))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))
}

pub async fn show(State(state): State<AppState>, viewer: Viewer) -> Response {
    match render(&state, &viewer, StatusCode::OK, None, None, None).await {
        Ok(r) => r,
        Err(e) => error_page(&viewer, e),
    }
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
}

pub async fn set_language(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<LangForm>,
) -> Result<Response, WebError> {
    let user = signed_in(&viewer)?;
    let lang: Lang = form
        .lang
        .parse()
        .map_err(|_| WebError::Invalid { code: "invalid_language", message: "tg, ru or en".into() })?;
    state.store.set_user_lang(&viewer.actor(), user.id, lang).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
pub struct TotpForm {
    /// A code from the offered secret.
    code: String,
    /// To replace a second factor: the password and a code from the current one.
    #[serde(default)]
    password: String,
    #[serde(default)]
    current_code: String,
}

pub async fn enable_totp(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<TotpForm>,
) -> Result<Response, WebError> {
    let user = signed_in(&viewer)?;
    let refuse = |key: &str| {
        let message = viewer.tr.get(key);
        render(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, None, None, Some(message))
    };
    let throttle_key = format!("totp-enrol:{}", user.id);
    let address = viewer.address.as_deref();
    if state.throttle.check(&throttle_key, address).is_some() {
        return refuse("login-throttled-short").await;
    }
    let Some(secret) = viewer.token_hash.as_deref() else { return Err(WebError::not_found()) };
    let Some(secret) = state.store.totp_offer(secret).await? else { return refuse("totp-failed").await };
    if user.has_totp {
        let current = state.store.user_for_login(&user.username).await?.and_then(|u| u.totp_secret);
        let proven = password_is_right(&state, &user.username, form.password).await?
            && current.is_some_and(|c| crate::totp::verify(&c, &user.username, form.current_code.trim()));
        if !proven {
            state.throttle.failed(&throttle_key, address);
            return refuse("account-totp-replace-failed").await;
        }
    }
    if !crate::totp::verify(&secret, &user.username, form.code.trim()) {
        state.throttle.failed(&throttle_key, address);
        return refuse("totp-failed").await;
    }
    state.throttle.succeeded(&throttle_key, address);
    state.store.set_totp(&viewer.actor(), user.id, Some(&secret)).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

/// The user's own change of password: the current one, and a new one under the same policy as
/// everywhere else.
pub async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let user = signed_in(&viewer)?;
    let refuse = |key: &str| {
        let message = viewer.tr.get(key);
        render(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, None, None, Some(message))
    };
    let throttle_key = format!("password-change:{}", user.id);
    let address = viewer.address.as_deref();
    if state.throttle.check(&throttle_key, address).is_some() {
        return refuse("login-throttled-short").await;
    }
    if !password_is_right(&state, &user.username, form.current).await? {
        state.throttle.failed(&throttle_key, address);
        return refuse("account-password-wrong").await;
    }
    state.throttle.succeeded(&throttle_key, address);
    if let Err(e) = crate::password::check_policy(&form.new, &user.username) {
        return refuse(e.code()).await;
    }
    let new = form.new;
    let hash = tokio::task::spawn_blocking(move || crate::password::hash(&new))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::Internal)?;
    state.store.set_password(&viewer.actor(), user.id, &hash).await?;
    let notice = viewer.tr.get("account-password-changed");
    render(&state, &viewer, StatusCode::OK, Some(notice), None, None).await
}

pub async fn create_token(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    body: String,
) -> Result<Response, WebError> {
    let user = signed_in(&viewer)?;
    // Repeated `scope` fields: parse the form by hand (serde_urlencoded has no sequences).
    let mut name = String::new();
    let mut scopes = Vec::new();
    for (key, value) in super::form::form_pairs(&body) {
        match key.as_str() {
            "name" => name = value.trim().to_owned(),
            "scope" => scopes.push(
                value
                    .parse::<Scope>()
                    .map_err(|e| WebError::Invalid { code: "invalid_scope", message: e.to_string() })?,
            ),
            _ => {}
        }
    }
    if name.is_empty() || scopes.is_empty() {
        let message = viewer.tr.get("account-token-incomplete");
        return render(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, None, None, Some(message)).await;
    }
    let token = format!("hmr_{}", crate::session::new_token());
    state.store.create_api_token(&viewer.actor(), user.id, &name, &scopes, &crate::session::token_hash(&token)).await?;
    let notice = viewer.tr.get("account-token-shown-once");
    let device = scopes.contains(&Scope::OpenRosa).then(|| {
        let url = crate::openrosa::device_url(&state, &headers, viewer.https, &token);
        let qr = crate::partner_link::qr_svg(&crate::openrosa::collect_settings(&url, &format!("Hamroh · {name}")));
        (url, qr)
    });
    let mut template = account_page(&state, &viewer, Some(notice), Some(token), None).await?;
    template.device = device;
    Ok(page(&viewer, StatusCode::OK, &template))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    super::PageId(id): super::PageId,
) -> Result<Response, WebError> {
    let user = signed_in(&viewer)?;
    state.store.revoke_api_token(&viewer.actor(), id, Some(user.id)).await?;
    Ok(Redirect::to("/account").into_response())
}

pub async fn logout_everywhere(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let user = signed_in(&viewer)?;
    state.store.end_all_sessions(&viewer.actor(), user.id).await?;
    Ok(Redirect::to("/login").into_response())
}
