//! A person's record and audit trail. What may be seen is decided by the store's gate; a refusal
//! looks exactly like a record that does not exist.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::consent::ConsentScope;
use hamroh_domain::model::Person;
use hamroh_domain::org::{Lang, Role};
use hamroh_store::AuditEvent;
use uuid::Uuid;

use super::account::form_pairs;
use super::{Chrome, error_page, page};
use crate::AppState;
use crate::auth::Caller;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::Viewer;

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    c: Chrome,
    person: Person,
    sex: String,
    district: String,
    consents: Vec<(String, String)>,
    /// Date, instrument, total, band, flags.
    screenings: Vec<(String, String, String, String, String)>,
    can_audit: bool,
}

pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub outcome: String,
    pub address: String,
}

#[derive(Template)]
#[template(path = "person_audit.html")]
struct AuditPage {
    c: Chrome,
    person_id: Uuid,
    events: Vec<AuditRow>,
}

/// A date and time in Dushanbe (UTC+5).
pub fn local_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub fn consent_label(t: &Tr, scope: &ConsentScope) -> String {
    match scope {
        ConsentScope::Care => t.get("consent-care"),
        ConsentScope::Research => t.get("consent-research"),
        ConsentScope::Sector(s) => t.with("consent-sector", &[("sector", t.get(&format!("sector-{s}")))]),
        ConsentScope::Organisation(id) => t.with("consent-organisation", &[("organisation", id.to_string())]),
    }
}

pub fn district_name(lang: Lang, code: hamroh_domain::person::DistrictCode) -> String {
    let d = code.district();
    match lang {
        Lang::Tg => d.tg,
        Lang::Ru => d.ru,
        Lang::En => d.en,
    }
    .to_owned()
}

async fn person_page(state: &AppState, viewer: &Viewer, caller: &Caller, id: Uuid) -> Result<Response, WebError> {
    let gate = caller.gate(state);
    let person = gate.person(id).await?;
    let screenings = gate.screenings_of(id).await?;
    let consents = gate.consents_of(id).await?;
    let t = &viewer.tr;
    let template = PersonPage {
        c: Chrome::new(viewer),
        sex: t.get(&format!("sex-{}", person.sex)),
        district: district_name(t.lang, person.district),
        consents: consents.iter().map(|s| (s.to_string(), consent_label(t, s))).collect(),
        screenings: screenings
            .iter()
            .rev()
            .map(|s| {
                (
                    local_time(s.encounter_at),
                    s.instrument.clone(),
                    s.outcome.total.map_or(String::new(), |v| v.to_string()),
                    s.outcome.band.clone().unwrap_or_default(),
                    s.outcome.flags.join(", "),
                )
            })
            .collect(),
        can_audit: caller.principal.has_any_role(&[Role::Coordinator, Role::Admin]),
        person,
    };
    Ok(page(viewer, StatusCode::OK, &template))
}

pub async fn show(State(state): State<AppState>, viewer: Viewer, caller: Caller, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else { return error_page(&viewer, WebError::not_found()) };
    person_page(&state, &viewer, &caller, id).await.unwrap_or_else(|e| error_page(&viewer, e))
}

pub async fn audit(State(state): State<AppState>, viewer: Viewer, caller: Caller, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else { return error_page(&viewer, WebError::not_found()) };
    match caller.gate(&state).audit_trail(id).await {
        Ok(events) => {
            let template = AuditPage {
                c: Chrome::new(&viewer),
                person_id: id,
                events: events.into_iter().map(audit_row).collect(),
            };
            page(&viewer, StatusCode::OK, &template)
        }
        Err(e) => error_page(&viewer, e.into()),
    }
}

fn audit_row(e: AuditEvent) -> AuditRow {
    AuditRow {
        seq: e.seq,
        at: local_time(e.at),
        actor: e.actor,
        action: e.action,
        entity: e.entity,
        outcome: e.outcome,
        address: e.address.unwrap_or_default(),
    }
}

pub async fn consent(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    Path(id): Path<String>,
    body: String,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else { return error_page(&viewer, WebError::not_found()) };
    let pairs = form_pairs(&body);
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let (Some(Ok(scope)), Some(given)) =
        (get("scope").map(str::parse::<ConsentScope>), get("given").map(|g| g == "true"))
    else {
        return error_page(
            &viewer,
            WebError::Invalid { code: "invalid_consent", message: viewer.tr.get("consent-invalid") },
        );
    };
    match caller.gate(&state).record_consent(id, scope, given).await {
        // After a withdrawal the record may no longer be visible to this organisation.
        Ok(_) => {
            let next = if given { format!("/persons/{id}") } else { "/".to_owned() };
            Redirect::to(&next).into_response()
        }
        Err(e) => error_page(&viewer, e.into()),
    }
}
