//! FHIR R4 at the API: instruments as `Questionnaire`s, a person's record as a `Bundle`, and
//! screenings taken elsewhere imported as `QuestionnaireResponse`s, scored by the engine like any
//! other. Person routes go through the gate: access, consent and the audit trail as everywhere.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use hamroh_domain::instrument::catalog;
use hamroh_domain::model::Millis;
use hamroh_domain::org::Lang;
use hamroh_interop::fhir::{Identity, person_bundle, questionnaire, read_responses};
use serde::Deserialize;
use uuid::Uuid;

use super::clinical::{EncounterView, Given, store_encounter};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ErrorBody, WebError};

#[utoipa::path(
    get,
    path = "/api/v1/instruments/{id}/fhir",
    tag = "instruments",
    params(("id" = String, Path, description = "Instrument id, e.g. phq9")),
    responses(
        (status = 200, description = "The instrument as a FHIR R4 Questionnaire", body = Object),
        (status = 404, description = "No such instrument", body = ErrorBody)
    )
)]
pub async fn instrument_questionnaire(Path(id): Path<String>) -> Result<Json<serde_json::Value>, WebError> {
    let inst = catalog().get(&id).ok_or_else(WebError::not_found)?;
    Ok(Json(questionnaire(inst)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BundleParams {
    /// `care` includes the name and phone (for care, which the caller's access already implies);
    /// `pseudonymous` (the default) leaves them out.
    #[serde(default)]
    purpose: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/fhir",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id"), BundleParams),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "The person's record as a FHIR R4 collection Bundle", body = Object),
        (status = 400, description = "An unknown purpose", body = ErrorBody),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody)
    )
)]
pub async fn person_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<BundleParams>,
) -> Result<Json<serde_json::Value>, WebError> {
    let identity = match params.purpose.as_deref() {
        None | Some("pseudonymous") => Identity::Pseudonymous,
        Some("care") => Identity::ForCare,
        Some(other) => {
            return Err(WebError::BadRequest {
                code: "invalid_purpose",
                message: format!("purpose `{other}`: use care or pseudonymous"),
            });
        }
    };
    let id = Uuid::parse_str(&id).map_err(|_| WebError::not_found())?;
    let gate = caller.gate(&state);
    let person = gate.person(id).await?;
    let screenings = gate.screenings_of(id).await?;
    let referrals = gate.referrals_with_steps(id).await?;
    Ok(Json(person_bundle(&person, identity, &screenings, &referrals, catalog(), hamroh_store::now_millis())))
}

#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/fhir",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    request_body(content = Object, description = "A FHIR R4 QuestionnaireResponse, or a Bundle of them, for instruments Hamroh knows"),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "Scored and stored as one encounter", body = EncounterView),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody),
        (status = 422, description = "Nothing stored: not a response Hamroh can read (`invalid_fhir`: an unknown questionnaire or version, an answer outside the item's code system, two answers to one item, a language other than tg, ru or en), about another patient (`subject_mismatch`), dated in the future or before 2000 (`invalid_authored`), or answers the instrument does not allow (`invalid_answers`); the message names the item", body = ErrorBody)
    )
)]
pub async fn import_responses(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    super::ApiJson(resource): super::ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<EncounterView>), WebError> {
    let id = Uuid::parse_str(&id).map_err(|_| WebError::not_found())?;
    // Access first: a refusal never depends on what was sent.
    caller.gate(&state).may_write(id).await?;
    let responses =
        read_responses(&resource, catalog()).map_err(|message| WebError::Invalid { code: "invalid_fhir", message })?;
    let lang = responses.iter().find_map(|r| r.lang).unwrap_or(Lang::Tg);
    // The screening's time is when it was given: the earliest `authored`, else now.
    let now = hamroh_store::now_millis();
    let at = responses.iter().filter_map(|r| r.authored).min();
    if let Some(at) = at {
        check_authored(at, now)?;
    }
    let subjects = responses.iter().filter_map(|r| r.subject.clone()).collect();
    let answers = responses.into_iter().map(|r| (r.instrument, r.answers)).collect();
    store_encounter(&state, &caller, id, Given { answers, lang, at, subjects }).await
}

/// The earliest time a screening may have been given: Hamroh records no answers from before 2000.
const EARLIEST_AUTHORED: Millis = 946_684_800_000;
/// How far ahead of the server's clock a device's may run.
const CLOCK_SKEW: Millis = 5 * 60 * 1000;

fn check_authored(at: Millis, now: Millis) -> Result<(), WebError> {
    let refuse = |message: &str| WebError::Invalid { code: "invalid_authored", message: message.to_owned() };
    if at > now + CLOCK_SKEW {
        return Err(refuse("authored: the response is dated in the future"));
    }
    if at < EARLIEST_AUTHORED {
        return Err(refuse("authored: the response is dated before 2000"));
    }
    Ok(())
}
