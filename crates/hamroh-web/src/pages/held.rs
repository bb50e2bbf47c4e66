//! Registrations filled offline that may name someone already registered, held by the OpenRosa
//! server instead of guessed: a person of the organisation compares them with the likely
//! matches and registers a new person, or records the form as about one already registered.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_store::{HeldDecision, HeldRegistration, StoreError};
use serde::Deserialize;
use uuid::Uuid;

use super::persons::local_time;
use super::{Chrome, error_page, page};
use crate::AppState;
use crate::auth::Caller;
use crate::error::WebError;
use crate::openrosa::SOURCE;
use crate::session::Viewer;
use crate::workflow;

/// One candidate as the page shows it.
pub struct Candidate {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub born: String,
    pub district: String,
}

#[derive(Template)]
#[template(path = "held_registration.html")]
struct HeldPage {
    c: Chrome,
    id: String,
    name: String,
    born: String,
    sex: String,
    district: String,
    phone: String,
    received: String,
    candidates: Vec<Candidate>,
}

/// The worklist's rows: (link, who, when received with the number of likely matches).
pub async fn worklist_rows(
    state: &AppState,
    caller: &Caller,
    t: &crate::i18n::Tr,
) -> Result<Vec<(String, String, String)>, WebError> {
    let held = caller.gate(state).held_registrations().await?;
    Ok(held
        .into_iter()
        .map(|h| {
            let detail = format!(
                "{} {} · {}",
                t.get("held-received"),
                local_time(h.received_at),
                t.count("held-matches", h.candidates.len(), false)
            );
            (link(&h.submission_id), full_name(&h), detail)
        })
        .collect())
}

fn link(id: &str) -> String {
    let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    format!("/registrations/held/{id}")
}

fn full_name(h: &HeldRegistration) -> String {
    let r = &h.registration;
    format!("{} {} · {}", r.given_name.trim(), r.family_name.trim(), r.birth_year.trim())
}

async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<HeldRegistration, WebError> {
    Ok(caller.gate(state).held_registration(SOURCE, id).await?)
}

pub async fn show(State(state): State<AppState>, viewer: Viewer, caller: Caller, Path(id): Path<String>) -> Response {
    match build(&state, &viewer, &caller, &id).await {
        Ok(r) => r,
        Err(e) => error_page(&viewer, e),
    }
}

async fn build(state: &AppState, viewer: &Viewer, caller: &Caller, id: &str) -> Result<Response, WebError> {
    let h = find(state, caller, id).await?;
    let t = &viewer.tr;
    let gate = caller.gate(state);
    let mut candidates = Vec::new();
    for person_id in &h.candidates {
        // A candidate no longer visible (consent withdrawn since) is left out.
        match gate.person(*person_id).await {
            Ok(p) => candidates.push(Candidate {
                id: p.id,
                code: p.code.clone(),
                name: format!("{} {}", p.given_name.unwrap_or_default(), p.family_name.unwrap_or_default()),
                born: p.birth_year.get().to_string(),
                district: super::persons::district_name(t.lang, p.district),
            }),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let r = &h.registration;
    let template = HeldPage {
        c: Chrome::new(viewer),
        id: h.submission_id.clone(),
        name: format!("{} {}", r.given_name.trim(), r.family_name.trim()),
        born: r.birth_year.clone(),
        sex: t.get(&format!("sex-{}", r.sex.trim())),
        district: hamroh_domain::person::DistrictCode::parse(r.district.trim())
            .map(|d| super::persons::district_name(t.lang, d))
            .unwrap_or_else(|_| r.district.clone()),
        phone: r.phone.clone(),
        received: local_time(h.received_at),
        candidates,
    };
    Ok(page(viewer, StatusCode::OK, &template))
}

/// Registers the held form as a new person.
pub async fn register_new(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let decided = async {
        let h = find(&state, &caller, &id).await?;
        let ctx = workflow::registration_context(&caller.principal, hamroh_store::now_millis());
        let record = h.registration.validate(&ctx).map_err(|errors| WebError::Invalid {
            code: "invalid_registration",
            message: errors
                .iter()
                .map(|e| format!("{}: {}", e.field, viewer.tr.get(e.message)))
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        Ok::<_, WebError>(caller.gate(&state).resolve_held(SOURCE, &id, HeldDecision::New(Box::new(record))).await?)
    };
    match decided.await {
        Ok(person) => Redirect::to(&format!("/persons/{person}")).into_response(),
        Err(e) => error_page(&viewer, e),
    }
}

#[derive(Deserialize)]
pub struct SameForm {
    person_id: Uuid,
}

/// Records the held form as about a person already registered.
pub async fn same_person(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    Path(id): Path<String>,
    Form(f): Form<SameForm>,
) -> Response {
    let decided = async {
        let h = find(&state, &caller, &id).await?;
        if !h.candidates.contains(&f.person_id) {
            return Err(WebError::Invalid { code: "not_a_candidate", message: viewer.tr.get("held-not-candidate") });
        }
        Ok(caller.gate(&state).resolve_held(SOURCE, &id, HeldDecision::Same(f.person_id)).await?)
    };
    match decided.await {
        Ok(person) => Redirect::to(&format!("/persons/{person}")).into_response(),
        Err(e) => error_page(&viewer, e),
    }
}
