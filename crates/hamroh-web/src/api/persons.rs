//! A person's record through the API. The store's gate decides and audits; a refusal answers 404,
//! like a record that does not exist.

use axum::Json;
use axum::extract::{Path, State};
use hamroh_domain::consent::ConsentScope;
use hamroh_domain::org::{Role, Sector};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiJson;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ErrorBody, WebError};

/// A person's record as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    /// The pseudonymous id shown to people.
    pub code: String,
    pub registered_by: Uuid,
    #[schema(value_type = String, example = "male")]
    pub sex: String,
    pub birth_year: i32,
    /// ISO 3166-2:TJ.
    pub region: String,
    /// Hamroh's district code, e.g. `TJ-KT.kulob`.
    pub district: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<String>,
    /// The consent scopes in force: `care`, `research`, `sector:<sector>`, `org:<uuid>`.
    pub consents: Vec<String>,
}

fn parse_id(id: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(id).map_err(|_| WebError::not_found())
}

#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}",
    operation_id = "show_person",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "The record (the read is audited)", body = PersonView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody)
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PersonView>, WebError> {
    let id = parse_id(&id)?;
    let gate = caller.gate(&state);
    let (person, consents) = gate.person_with_consents(id).await?;
    Ok(Json(PersonView {
        id: person.id,
        code: person.code,
        registered_by: person.organisation_id,
        sex: person.sex.as_str().to_owned(),
        birth_year: person.birth_year.get(),
        region: person.district.region().to_owned(),
        district: person.district.as_str().to_owned(),
        given_name: person.given_name,
        family_name: person.family_name,
        phone: person.phone.map(|p| p.as_str().to_owned()),
        consents: consents.iter().map(ToString::to_string).collect(),
    }))
}

/// One field's change, with the value it replaced.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldChangeView {
    /// `person` or `migration_episode`.
    pub entity: String,
    pub entity_id: Uuid,
    /// `phone`, `district`, `injury` (`cause/body_part`) or `episode` (a stay abroad added).
    pub field: String,
    pub previous: Option<String>,
    pub current: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub changed_at: i64,
    pub changed_by: Option<Uuid>,
}

impl From<hamroh_store::FieldChange> for FieldChangeView {
    fn from(c: hamroh_store::FieldChange) -> Self {
        Self {
            entity: c.entity,
            entity_id: c.entity_id,
            field: c.field,
            previous: c.previous,
            current: c.current,
            changed_at: c.changed_at,
            changed_by: c.changed_by,
        }
    }
}

/// What a change did: the fields that changed (none when every value was already so).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordChanged {
    pub changed: Vec<FieldChangeView>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/persons/{id}",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    request_body = hamroh_domain::record_update::RecordUpdate,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Changed, audited with the fields it touched; the previous values are kept", body = RecordChanged),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such person, or not writable by this organisation", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named in the message, or a stay abroad of someone else", body = ErrorBody)
    )
)]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<hamroh_domain::record_update::RecordUpdate>,
) -> Result<Json<RecordChanged>, WebError> {
    let id = parse_id(&id)?;
    let gate = caller.gate(&state);
    // Asked before the values are looked at, so that a refusal never depends on them.
    gate.may_write(id).await?;
    let change = update.validate(id, crate::workflow::today()).map_err(|errors| WebError::Invalid {
        code: "invalid_record_update",
        message: errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "),
    })?;
    let changed = gate.change_record(id, &change).await?;
    Ok(Json(RecordChanged { changed: changed.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/changes",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "The changes since registration, the latest first (the read is audited)", body = [FieldChangeView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody)
    )
)]
pub async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<FieldChangeView>>, WebError> {
    let changes = caller.gate(&state).record_changes(parse_id(&id)?).await?;
    Ok(Json(changes.into_iter().map(Into::into).collect()))
}

/// One event of a person's audit trail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub outcome: String,
    pub address: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/audit",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Who did what to the record, newest first", body = [AuditEntry]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only coordinators and administrators read audit trails", body = ErrorBody),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody)
    )
)]
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, WebError> {
    let trail = caller.gate(&state).audit_trail(parse_id(&id)?).await?;
    Ok(Json(
        trail
            .into_iter()
            .map(|e| AuditEntry {
                seq: e.seq,
                at: e.at,
                actor: e.actor,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                outcome: e.outcome,
                address: e.address,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// `care`, `research`, `sector:<sector>` or `org:<uuid>`.
    pub scope: String,
    /// `true` to give consent, `false` to withdraw it (effective at once).
    pub given: bool,
    /// How it was given: `verbal` or `written`.
    #[serde(default)]
    pub how: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub id: Uuid,
    pub scope: String,
    pub given: bool,
    pub recorded_at: i64,
    /// `verbal` or `written`, where the request said.
    pub how: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/consents",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    request_body = ConsentRequest,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "The decision, recorded and audited", body = ConsentView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody),
        (status = 422, description = "Unknown consent scope or way of giving it", body = ErrorBody)
    )
)]
pub async fn consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ConsentRequest>,
) -> Result<(axum::http::StatusCode, Json<ConsentView>), WebError> {
    let id = parse_id(&id)?;
    let scope: ConsentScope = req.scope.parse().map_err(|e: hamroh_domain::code::UnknownCode| WebError::Invalid {
        code: "invalid_consent_scope",
        message: e.to_string(),
    })?;
    let how = req
        .how
        .as_deref()
        .map(str::parse::<hamroh_domain::consent::ConsentMode>)
        .transpose()
        .map_err(|e| WebError::Invalid { code: "invalid_consent_how", message: e.to_string() })?;
    let record = caller.gate(&state).record_consent(id, scope, req.given, how).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(ConsentView {
            id: record.id,
            scope: record.scope.to_string(),
            given: record.given,
            recorded_at: record.recorded_at,
            how: record.how.map(|h| h.as_str().to_owned()),
        }),
    ))
}

/// The caller: user, organisation, roles, and a token's scopes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user_id: Uuid,
    pub organisation_id: Uuid,
    pub sector: Sector,
    pub roles: Vec<Role>,
    /// For an API token, what it may do; absent for a signed-in user.
    pub scopes: Option<Vec<String>>,
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "persons",
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Who the request acts for", body = Me),
        (status = 401, description = "Not signed in", body = ErrorBody)
    )
)]
pub async fn me(caller: Caller) -> Json<Me> {
    let p = caller.principal;
    Json(Me {
        user_id: p.user_id,
        organisation_id: p.organisation_id,
        sector: p.sector,
        roles: p.roles,
        scopes: p.token.map(|t| t.scopes.iter().map(|s| s.as_str().to_owned()).collect()),
    })
}
