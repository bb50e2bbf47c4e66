//! The signed-in user's own account: interface language, second factor, API tokens, sessions.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
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
}

fn signed_in(viewer: &Viewer) -> Result<&SessionUser, WebError> {
    viewer.user.as_ref().ok_or(WebError::Unauthenticated { message: "sign in first".into() })
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<String>,
    new_token: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let user = signed_in(viewer)?;
    let secret = crate::totp::new_secret();
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
    };
    Ok(page(viewer, status, &template))
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
    secret: String,
    code: String,
}

pub async fn enable_totp(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<TotpForm>,
) -> Result<Response, WebError> {
    let user = signed_in(&viewer)?;
    if !crate::totp::verify(&form.secret, &user.username, form.code.trim()) {
        let message = viewer.tr.get("totp-failed");
        return render(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, None, None, Some(message)).await;
    }
    state.store.set_totp(&viewer.actor(), user.id, Some(&form.secret)).await?;
    Ok(Redirect::to("/account").into_response())
}

pub async fn create_token(State(state): State<AppState>, viewer: Viewer, body: String) -> Result<Response, WebError> {
    let user = signed_in(&viewer)?;
    // Repeated `scope` fields: parse the form by hand (serde_urlencoded has no sequences).
    let mut name = String::new();
    let mut scopes = Vec::new();
    for (key, value) in form_pairs(&body) {
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
    render(&state, &viewer, StatusCode::OK, Some(notice), Some(token), None).await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
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

/// The `key=value` pairs of an `application/x-www-form-urlencoded` body, decoded; unlike the
/// `Form` extractor this keeps repeated keys (checkbox groups).
pub fn form_pairs(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}
