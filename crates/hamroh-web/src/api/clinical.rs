//! The clinician's workflow through the API: find, register, screen, see the pathway, decide.
//! The same steps as the pages, through the same gate.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use hamroh_domain::instrument::{Instrument, catalog};
use hamroh_domain::model::Screening;
use hamroh_domain::names::parse_query;
use hamroh_domain::org::Lang;
use hamroh_domain::pathway::{Circumstances, Pathway, suggest};
use hamroh_domain::registration::Registration;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiJson;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ErrorBody, WebError};
use crate::workflow;

/// A person in a search result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonListItem {
    pub id: Uuid,
    pub code: String,
    pub sex: String,
    pub birth_year: i64,
    pub district: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

impl From<hamroh_store::PersonSummary> for PersonListItem {
    fn from(p: hamroh_store::PersonSummary) -> Self {
        Self {
            id: p.id,
            code: p.code,
            sex: p.sex,
            birth_year: p.birth_year,
            district: p.district,
            given_name: p.given_name,
            family_name: p.family_name,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// A Hamroh id, a name in any script, a phone number or a year of birth.
    #[serde(default)]
    q: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/persons",
    tag = "persons",
    params(SearchParams),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Persons the caller may see that match (each shown is an audited read)", body = [PersonListItem]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 422, description = "An empty query", body = ErrorBody)
    )
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<SearchParams>,
) -> Result<Json<Vec<PersonListItem>>, WebError> {
    let query = parse_query(p.q.as_deref().unwrap_or_default())
        .ok_or(WebError::Invalid { code: "empty_query", message: "give an id, a name, a phone or a year".into() })?;
    let found = caller.gate(&state).search(&query, 50).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    #[serde(flatten)]
    pub registration: Registration,
    /// Register even though likely duplicates were found (after checking them).
    #[serde(default)]
    pub confirm_new: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub id: Uuid,
    pub code: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/persons",
    tag = "persons",
    request_body = RegisterRequest,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "Registered for the caller's organisation", body = Registered),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 409, description = "Likely duplicates exist (their ids are in the message); send confirm_new to register anyway", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named in the message", body = ErrorBody)
    )
)]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<Registered>), WebError> {
    let ctx = workflow::registration_context(&caller.principal, hamroh_store::now_millis());
    let record = req.registration.validate(&ctx).map_err(|errors| WebError::Invalid {
        code: "invalid_registration",
        message: errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
    })?;
    let gate = caller.gate(&state);
    if !req.confirm_new {
        let duplicates = gate.likely_duplicates(&record.person).await?;
        if !duplicates.is_empty() {
            let ids: Vec<String> = duplicates.iter().map(|d| format!("{} ({})", d.code, d.id)).collect();
            return Err(WebError::Conflict {
                code: "possible_duplicates",
                message: format!("likely already registered: {}", ids.join(", ")),
            });
        }
    }
    let stored = gate.register(record).await?;
    Ok((StatusCode::CREATED, Json(Registered { id: stored.person.id, code: stored.person.code })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersInput {
    pub instrument: String,
    /// One value per item; `null` for an item the skip rules leave out.
    pub answers: Vec<Option<i64>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EncounterRequest {
    /// The language the questions were asked in.
    #[serde(default)]
    pub respondent_lang: Option<Lang>,
    pub screenings: Vec<AnswersInput>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub choice: String,
    pub action: String,
    pub reason: Option<String>,
    pub at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EncounterView {
    pub encounter_id: Uuid,
    pub person_id: Uuid,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The engine's result for each instrument, as `POST /api/v1/score` gives it.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<serde_json::Value>,
    pub pathway: Pathway,
    pub decision: Option<DecisionView>,
}

fn view(
    screenings: &[Screening],
    circumstances: &Circumstances,
    decision: Option<hamroh_domain::model::Decision>,
    lang: Lang,
) -> Result<EncounterView, WebError> {
    let first = screenings.first().ok_or_else(WebError::not_found)?;
    Ok(EncounterView {
        encounter_id: first.encounter_id,
        person_id: first.person_id,
        at: first.encounter_at,
        results: screenings.iter().map(|s| s.outcome.result.clone()).collect(),
        pathway: suggest(screenings, circumstances, lang),
        decision: decision.map(|d| DecisionView { choice: d.choice, action: d.action, reason: d.reason, at: d.at }),
    })
}

fn parse_id(id: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(id).map_err(|_| WebError::not_found())
}

#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/encounters",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    request_body = EncounterRequest,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "Scored and stored; the results, red flags and suggested pathway", body = EncounterView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody),
        (status = 422, description = "Unknown instrument or invalid answers, naming the instrument and item; nothing stored", body = ErrorBody)
    )
)]
pub async fn create_encounter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EncounterRequest>,
) -> Result<(StatusCode, Json<EncounterView>), WebError> {
    let id = parse_id(&id)?;
    let answers = req.screenings.into_iter().map(|s| (s.instrument, s.answers)).collect();
    let given = Given { answers, lang: req.respondent_lang.unwrap_or(Lang::Tg), at: None, subjects: Vec::new() };
    store_encounter(&state, &caller, id, given).await
}

/// One encounter's answers as a caller sent them.
pub(crate) struct Given {
    /// Each instrument's answers, in item order.
    pub answers: Vec<(String, Vec<Option<i64>>)>,
    pub lang: Lang,
    /// When the screening was given, if not now.
    pub at: Option<hamroh_domain::model::Millis>,
    /// Whom the sender says the answers are about (FHIR `subject`), each to be this person.
    pub subjects: Vec<serde_json::Value>,
}

/// Scores one encounter's answers with the engine and stores it through the gate: all or nothing.
pub(crate) async fn store_encounter(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    Given { answers, lang, at, subjects }: Given,
) -> Result<(StatusCode, Json<EncounterView>), WebError> {
    let gate = caller.gate(state);
    // Access first: nobody learns from a validation error whom the record is about.
    let (person, grant) = gate.person_to_write(id, "screening").await?;
    let screenings = match score_given(state, caller, &person, answers, subjects, (lang, at)) {
        Ok(screenings) => screenings,
        Err(e) => {
            gate.nothing_written(grant).await?;
            return Err(e);
        }
    };
    // An encounter sent through the API was not seen face to face here: its red flags ask for
    // contact today. The person's read is audited with it.
    gate.record_encounter(grant, &screenings, false, None, state.notifier.as_ref()).await?;
    // The pathway also uses their recorded stays abroad.
    let circumstances = state.store.circumstances_of(id).await?;
    Ok((StatusCode::CREATED, Json(view(&screenings, &circumstances, None, lang)?)))
}

/// The encounter's screenings, scored, or why the answers are refused (nothing is stored then).
fn score_given(
    state: &AppState,
    caller: &Caller,
    person: &hamroh_domain::model::Person,
    answers: Vec<(String, Vec<Option<i64>>)>,
    subjects: Vec<serde_json::Value>,
    (lang, at): (Lang, Option<hamroh_domain::model::Millis>),
) -> Result<Vec<hamroh_domain::model::Screening>, WebError> {
    if subjects.iter().any(|s| !hamroh_interop::fhir::names_person(s, person.id, &person.code)) {
        return Err(WebError::Invalid {
            code: "subject_mismatch",
            message: "subject: the response is about another patient than the person in the URL".into(),
        });
    }
    if answers.is_empty() {
        return Err(WebError::Invalid {
            code: "no_screenings",
            message: "give at least one instrument's answers".into(),
        });
    }
    let mut inputs: Vec<(&Instrument, Vec<Option<i64>>)> = Vec::new();
    for (instrument, given) in answers {
        let inst = catalog().get(&instrument).ok_or_else(|| WebError::Invalid {
            code: "unknown_instrument",
            message: format!("no instrument `{instrument}`"),
        })?;
        inputs.push((inst, given));
    }
    workflow::score_encounter(
        &state.cutoffs,
        &caller.principal,
        person,
        (lang, at.unwrap_or_else(hamroh_store::now_millis)),
        &inputs,
    )
    .map_err(|problems| WebError::Invalid { code: "invalid_answers", message: workflow::problems_text(&problems) })
}

#[utoipa::path(
    get,
    path = "/api/v1/encounters/{id}",
    tag = "persons",
    params(("id" = String, Path, description = "The encounter's id")),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Results, suggested pathway and decision", body = EncounterView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such encounter, or not visible to this organisation", body = ErrorBody)
    )
)]
pub async fn show_encounter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EncounterView>, WebError> {
    let e = caller.gate(&state).encounter(parse_id(&id)?).await?;
    Ok(Json(view(&e.screenings, &e.circumstances, e.decision, Lang::En)?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `follow` the suggested pathway, or `other`.
    pub choice: String,
    /// For `other`: the action chosen (an action code of the pathway).
    #[serde(default)]
    pub action: String,
    /// For `other`: why. For an amendment: why the decision changes.
    #[serde(default)]
    pub reason: String,
    /// Amend the decision in force (a reason is needed); the earlier one stays in the history.
    /// The red flags' follow-ups are kept; the pathway's others follow the new choice.
    #[serde(default)]
    pub amend: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/encounters/{id}/decision",
    tag = "persons",
    params(("id" = String, Path, description = "The encounter's id")),
    request_body = DecisionRequest,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "Recorded, with the follow-ups a followed pathway sets", body = DecisionView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such encounter, or not visible to this organisation", body = ErrorBody),
        (status = 409, description = "A decision is already recorded", body = ErrorBody),
        (status = 422, description = "`other` without an action and a reason", body = ErrorBody)
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> Result<(StatusCode, Json<DecisionView>), WebError> {
    let gate = caller.gate(&state);
    let hamroh_store::EncounterRecord { screenings, decision: existing, circumstances } =
        gate.encounter(parse_id(&id)?).await?;
    if existing.is_some() != req.amend {
        return Err(WebError::Conflict {
            code: if req.amend { "nothing_to_amend" } else { "already_decided" },
            message: if req.amend {
                "no decision is recorded for this encounter yet".into()
            } else {
                "a decision is already recorded for this encounter; send `amend: true` with a reason to change it"
                    .into()
            },
        });
    }
    let (decision, follow_ups) = workflow::decision(
        &caller.principal,
        (&screenings, &circumstances),
        &req.choice,
        &req.action,
        &req.reason,
        existing.as_ref(),
    )
    .map_err(|_| WebError::Invalid {
        code: "invalid_decision",
        message: "choose `follow`, or `other` with an action and a reason (an amendment needs a reason)".into(),
    })?;
    workflow::record_decision(&gate, &decision, &follow_ups).await?;
    Ok((
        StatusCode::CREATED,
        Json(DecisionView {
            choice: decision.choice,
            action: decision.action,
            reason: decision.reason,
            at: decision.at,
        }),
    ))
}
