//! Server-rendered pages. Each works without JavaScript. A page template gets a [`Chrome`] (`c`):
//! the viewer's language, the signed-in user and the stylesheet's address.

pub mod account;
pub mod admin;
pub mod clinical;
pub mod dashboard;
pub mod form;
pub mod login;
pub mod persons;
pub mod referrals;
pub mod services;

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
    let urgent_count = referrals::shown_count(&waiting);
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
    let (status, key) = match &err {
        WebError::NotFound { .. } => (StatusCode::NOT_FOUND, "error-not-found"),
        WebError::Forbidden { code: "session_required", .. } => (StatusCode::FORBIDDEN, "error-session-required"),
        WebError::Forbidden { .. } => (StatusCode::FORBIDDEN, "error-forbidden"),
        WebError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "error-bad-request"),
        WebError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "error-unavailable"),
        WebError::WriteFailed => (StatusCode::SERVICE_UNAVAILABLE, "error-write-failed"),
        WebError::StorageFull => (StatusCode::INSUFFICIENT_STORAGE, "error-storage-full"),
        WebError::Internal(detail) => {
            tracing::error!(error = %detail, "page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "error-server")
        }
        other => return other_error_page(viewer, other),
    };
    let template = ErrorPage { c: Chrome::new(viewer), message: viewer.tr.get(key) };
    page(viewer, status, &template)
}

fn other_error_page(viewer: &Viewer, err: &WebError) -> Response {
    let template = ErrorPage { c: Chrome::new(viewer), message: err.to_string() };
    page(viewer, err.status(), &template)
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
