//! Server-rendered pages. Each works without JavaScript.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use hamroh_store::{NewAuditEvent, SessionUser};
use serde::Deserialize;

use crate::AppState;
use crate::assets::css_url;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::{self, Viewer};

/// The language switcher: code and the language's own name.
pub const LANGS: &[(&str, &str)] = &[("tg", "Тоҷикӣ"), ("ru", "Русский"), ("en", "English")];

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    css: &'static str,
    langs: &'static [(&'static str, &'static str)],
    user: Option<SessionUser>,
    failed: bool,
    username: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: Tr,
    css: &'static str,
    langs: &'static [(&'static str, &'static str)],
    user: Option<SessionUser>,
    welcome: String,
    organisation: String,
    roles: String,
    counts: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: Tr,
    pub css: &'static str,
    pub langs: &'static [(&'static str, &'static str)],
    pub user: Option<SessionUser>,
    pub message: String,
}

/// A rendered page, with the language cookie set when the viewer just chose a language.
pub fn page(viewer: &Viewer, status: StatusCode, template: &impl Template) -> Response {
    let mut response = match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => return WebError::Internal(e.to_string()).into_response(),
    };
    if let Some(lang) = viewer.chosen_lang {
        response.headers_mut().append(header::SET_COOKIE, session::lang_cookie(lang));
    }
    response
}

pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let Some(user) = viewer.user.clone() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let t = &viewer.tr;
    let counts = state.store.counts().await?;
    let roles: Vec<String> = user.roles.iter().map(|r| t.get(&format!("role-{r}"))).collect();
    let template = HomePage {
        t: t.clone(),
        css: css_url(),
        langs: LANGS,
        welcome: t.with("home-welcome", &[("name", user.display_name.clone())]),
        organisation: t.with("home-organisation", &[("organisation", user.organisation_name.clone())]),
        roles: t.with("home-roles", &[("roles", roles.join(", "))]),
        counts: t.with(
            "home-counts",
            &[
                ("persons", counts.persons.to_string()),
                ("screenings", counts.screenings.to_string()),
                ("referrals", counts.referrals.to_string()),
            ],
        ),
        user: Some(user),
    };
    Ok(page(&viewer, StatusCode::OK, &template))
}

pub async fn login_page(viewer: Viewer) -> Response {
    if viewer.user.is_some() {
        return Redirect::to("/").into_response();
    }
    let template = LoginPage {
        t: viewer.tr.clone(),
        css: css_url(),
        langs: LANGS,
        user: None,
        failed: false,
        username: String::new(),
    };
    page(&viewer, StatusCode::OK, &template)
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// A hash to verify against when the user does not exist, so that the answer takes as long as
/// for a wrong password and does not reveal which usernames exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| crate::password::hash("decoy password that matches nothing").unwrap_or_default())
}

pub async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let username = form.username.trim().to_owned();
    let user = state.store.user_for_login(&username).await?;
    let hash = user.as_ref().map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let password = form.password;
    let verified = tokio::task::spawn_blocking(move || crate::password::verify(&password, &hash))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    match user {
        Some(user) if verified && !user.disabled => {
            let token = session::new_token();
            let expires = hamroh_store::now_millis() + session::SESSION_HOURS * 3_600_000;
            let actor = hamroh_store::Actor::user(user.id, viewer.address.clone());
            state.store.create_session(&actor, user.id, &session::token_hash(&token), expires).await?;
            let mut headers = HeaderMap::new();
            headers.insert(header::SET_COOKIE, session::session_cookie(&token, viewer.https));
            Ok((headers, Redirect::to("/")).into_response())
        }
        _ => {
            let mut event = NewAuditEvent {
                action: "login",
                entity: "user",
                entity_id: user.as_ref().map(|u| u.id.to_string()),
                person_id: None,
                outcome: "denied",
                detail: None,
            };
            if user.as_ref().is_some_and(|u| u.disabled) {
                event.detail = Some("disabled".into());
            }
            state.store.audit(&viewer.actor(), &[event]).await?;
            let template =
                LoginPage { t: viewer.tr.clone(), css: css_url(), langs: LANGS, user: None, failed: true, username };
            Ok(page(&viewer, StatusCode::UNAUTHORIZED, &template))
        }
    }
}

pub async fn logout(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    if let Some(hash) = &viewer.token_hash {
        state.store.end_session(&viewer.actor(), hash).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session::clear_session_cookie());
    Ok((headers, Redirect::to("/login")).into_response())
}

pub async fn not_found(viewer: Viewer) -> Response {
    crate::error::error_page(&viewer.tr, StatusCode::NOT_FOUND, "error-not-found")
}
