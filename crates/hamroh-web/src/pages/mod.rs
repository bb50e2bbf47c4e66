//! Server-rendered pages. Each works without JavaScript. A page template gets a [`Chrome`] (`c`):
//! the viewer's language, the signed-in user and the stylesheet's address.

pub mod account;
pub mod admin;
pub mod clinical;
pub mod dashboard;
pub mod directory;
pub mod form;
pub mod held;
pub mod login;
pub mod partner;
pub mod persons;
pub mod record;
pub mod referrals;
pub mod services;
pub mod worklist;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use hamroh_domain::org::Role;
use hamroh_store::SessionUser;

use crate::AppState;
use crate::assets::css_url;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::{self, Viewer};

/// The language switcher: code and the language's own name.
pub const LANGS: &[(&str, &str)] = &[("tg", "Тоҷикӣ"), ("ru", "Русский"), ("en", "English")];

/// What every page's frame needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: Tr,
    pub css: &'static str,
    pub langs: &'static [(&'static str, &'static str)],
    pub user: Option<SessionUser>,
}

impl Chrome {
    pub fn new(viewer: &Viewer) -> Self {
        Self { t: viewer.tr.clone(), css: css_url(), langs: LANGS, user: viewer.user.clone() }
    }

    pub fn get(&self, key: &str) -> String {
        self.t.get(key)
    }

    pub fn can_care(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.roles.iter().any(|r| hamroh_domain::access::CARE_ROLES.contains(r)))
    }

    pub fn keeps_directory(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.roles.iter().any(|r| crate::auth::DIRECTORY_KEEPERS.contains(r)))
    }

    pub fn sees_evidence(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.roles.iter().any(|r| crate::auth::EVIDENCE_READERS.contains(r)))
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.has_role(Role::Admin))
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    welcome: String,
    organisation: String,
    roles: String,
    counts: String,
    can_care: bool,
    /// Encounter id, person code, date, flags.
    urgent: Vec<(uuid::Uuid, String, String, String)>,
    /// How many encounters wait, `500+` past what the store counts.
    urgent_count: String,
    /// The link to all of them on the worklist, when some are left off here.
    urgent_more: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub c: Chrome,
    pub message: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub c: Chrome,
    pub title: String,
    pub message: String,
    pub back: String,
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

/// The name of a role in the viewer's language.
pub fn role_label(t: &Tr, role: Role) -> String {
    t.get(&format!("role-{role}"))
}

/// Red flags the home page lists, the oldest first; the worklist lists them all.
const HOME_RED_FLAGS: usize = 10;

pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let Some(user) = viewer.user.clone() else { return Ok(axum::response::Redirect::to("/login").into_response()) };
    let t = &viewer.tr;
    let totals = state.store.totals().await?;
    let roles: Vec<String> = user.roles.iter().map(|r| role_label(t, *r)).collect();
    let can_care = user.roles.iter().any(|r| hamroh_domain::access::CARE_ROLES.contains(r));
    let waiting = if can_care {
        state.store.urgent_items(user.organisation_id, HOME_RED_FLAGS).await?
    } else {
        hamroh_store::Listing { rows: Vec::new(), count: 0 }
    };
    let urgent_count = worklist::shown_count(&waiting);
    let urgent_more =
        (waiting.count > waiting.rows.len()).then(|| t.with("worklist-show-all", &[("count", urgent_count.clone())]));
    let urgent = waiting
        .rows
        .into_iter()
        .map(|u| {
            let flags = u.flags.split(',').map(|f| clinical::flag_label(t, f)).collect::<Vec<_>>().join(", ");
            (u.encounter_id, u.person_code, persons::local_time(u.at), flags)
        })
        .collect();
    let template = HomePage {
        can_care,
        urgent,
        urgent_count,
        urgent_more,
        c: Chrome::new(&viewer),
        welcome: t.with("home-welcome", &[("name", user.display_name.clone())]),
        organisation: t.with("home-organisation", &[("organisation", user.organisation_name.clone())]),
        roles: t.with("home-roles", &[("roles", roles.join(", "))]),
        counts: t.with(
            "home-counts",
            &[
                ("persons", totals.persons.to_string()),
                ("screenings", totals.screenings.to_string()),
                ("referrals", totals.referrals.to_string()),
            ],
        ),
    };
    Ok(page(&viewer, StatusCode::OK, &template))
}

pub async fn not_found(viewer: Viewer) -> Response {
    let template = ErrorPage { c: Chrome::new(&viewer), message: viewer.tr.get("error-not-found") };
    page(&viewer, StatusCode::NOT_FOUND, &template)
}

/// A page error: the JSON error shape would mean nothing to a person, so show a page.
pub fn error_page(viewer: &Viewer, err: WebError) -> Response {
    if let WebError::Internal(detail) = &err {
        tracing::error!(error = %detail, "page failed");
    }
    render_error(viewer, err.status(), Some(err.code()))
}

/// The message a page shows for an error: its code's own where it has one, else its status's.
/// Every error a page can meet has a message in the three languages; none shows the API's English.
pub fn error_key(status: StatusCode, code: Option<&str>) -> &'static str {
    match (status.as_u16(), code) {
        (403, Some("session_required")) => "error-session-required",
        (503, Some("write_failed")) => "error-write-failed",
        (503, Some("busy")) => "error-busy",
        (400 | 413 | 415, _) => "error-bad-request",
        (401 | 403, _) => "error-forbidden",
        (404 | 405, _) => "error-not-found",
        (409, _) => "error-conflict",
        (422, _) => "error-invalid",
        (429, _) => "error-too-many",
        (503, _) => "error-unavailable",
        (507, _) => "error-storage-full",
        _ => "error-server",
    }
}

fn render_error(viewer: &Viewer, status: StatusCode, code: Option<&str>) -> Response {
    let template = ErrorPage { c: Chrome::new(viewer), message: viewer.tr.get(error_key(status, code)) };
    page(viewer, status, &template)
}

/// The pages' one error path: any error answer of a page route that is not already a page (the
/// API's JSON error, an extractor's plain-text rejection such as a malformed id) becomes the
/// localised error page, with the same status.
pub async fn errors_as_pages(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (uri, headers) = (request.uri().clone(), request.headers().clone());
    let response = next.run(request).await;
    let status = response.status();
    let is_page = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if status.as_u16() < 400 || is_page {
        return response;
    }
    let code = response.extensions().get::<crate::error::ErrorCode>().map(|c| c.0);
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.uri = uri;
    parts.headers = headers;
    let viewer =
        match <Viewer as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state).await {
            Ok(v) => v,
            // The session store cannot be read either: the page in the browser's language, signed out.
            Err(_) => Viewer::signed_out(&parts.headers),
        };
    let mut shown = render_error(&viewer, status, code);
    if let Some(retry) = response.headers().get(header::RETRY_AFTER) {
        shown.headers_mut().insert(header::RETRY_AFTER, retry.clone());
    }
    shown
}

/// The emergency contacts beside a self-harm flag, for a person of one district.
pub struct EmergencyView {
    pub contacts: hamroh_domain::emergency::ForDistrict,
    /// Said when the deployment lists no psychiatric emergency service for the district.
    pub no_service: String,
}

impl EmergencyView {
    pub fn new(state: &AppState, t: &Tr, district: hamroh_domain::person::DistrictCode) -> Self {
        let code = district.as_str();
        let place = persons::district_name(t.lang, district);
        Self {
            contacts: state.emergency.for_district(code, t.lang),
            no_service: t.with("emergency-no-service", &[("district", place)]),
        }
    }

    /// The national numbers alone, for a list of persons from many districts.
    pub fn national(state: &AppState, t: &Tr) -> Self {
        Self { contacts: state.emergency.for_district("", t.lang), no_service: String::new() }
    }
}

/// A record's id in a page's path. An address whose id is not one names no page: 404, shown as
/// the error page by [`errors_as_pages`].
#[derive(Debug, Clone, Copy)]
pub struct PageId(pub uuid::Uuid);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageId {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, WebError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await.map_err(|_| WebError::not_found())?;
        uuid::Uuid::parse_str(&raw).map(Self).map_err(|_| WebError::not_found())
    }
}
