//! Referrals through the API: refer, read, move through the states; the public service directory.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use hamroh_domain::org::Sector;
use hamroh_domain::referral::Urgency;
use hamroh_domain::service::{Cost, ServiceLanguage};
use hamroh_store::{ReferralDetail, ReferralRequest, ServiceEntry};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiJson;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ErrorBody, WebError};
use crate::workflow;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferRequest {
    pub service_id: Uuid,
    pub reason: String,
    pub urgency: Urgency,
    /// The screening that led to the referral.
    #[serde(default)]
    pub screening_id: Option<Uuid>,
    /// For the receiving service; only what the person agreed to share.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: i64,
    pub reason: Option<String>,
    pub barrier: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReferralView {
    pub id: Uuid,
    pub code: String,
    pub person_id: Uuid,
    pub person_code: String,
    pub from_organisation: String,
    pub service_id: Uuid,
    pub service: String,
    pub to_organisation: String,
    pub reason: String,
    pub urgency: Urgency,
    pub due_date: String,
    pub status: String,
    pub outcome: Option<String>,
    /// The steps possible now, from the diagram (whichever side may take them).
    pub allowed: Vec<String>,
    pub history: Vec<HistoryView>,
    /// The clinical content (reason, outcome, the reasons of steps) is withheld: the person
    /// withdrew consent to share with the caller's organisation, which can now only decline,
    /// cancel or close the referral.
    pub restricted: bool,
}

fn view(r: ReferralDetail) -> ReferralView {
    ReferralView {
        allowed: hamroh_domain::referral::allowed_from(r.status).iter().map(|s| (*s).to_owned()).collect(),
        history: r
            .history
            .iter()
            .map(|h| HistoryView {
                from_status: h.from_status.map(|s| s.as_str().to_owned()),
                to_status: h.to_status.as_str().to_owned(),
                at: h.at,
                reason: h.reason.clone(),
                barrier: h.barrier.map(|b| b.as_str().to_owned()),
            })
            .collect(),
        id: r.id,
        code: r.code,
        person_id: r.person_id,
        person_code: r.person_code,
        from_organisation: r.from_organisation,
        service_id: r.service_id,
        service: r.service,
        to_organisation: r.to_organisation,
        reason: r.reason,
        urgency: r.urgency,
        due_date: r.due_date,
        status: r.status.as_str().to_owned(),
        outcome: r.outcome,
        restricted: r.restricted,
    }
}

fn parse_id(id: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(id).map_err(|_| WebError::not_found())
}

#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/referrals",
    tag = "referrals",
    params(("id" = String, Path, description = "The person's id")),
    request_body = ReferRequest,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "Sent: in the receiving organisation's inbox at once", body = ReferralView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody),
        (status = 422, description = "No consent for the receiver's sector, a service that does not cover the person's district, or bad fields", body = ErrorBody)
    )
)]
pub async fn refer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReferRequest>,
) -> Result<(StatusCode, Json<ReferralView>), WebError> {
    if req.reason.trim().is_empty() {
        return Err(WebError::Invalid { code: "invalid_referral", message: "give a reason".into() });
    }
    let gate = caller.gate(&state);
    let request = ReferralRequest {
        person_id: parse_id(&id)?,
        service_id: req.service_id,
        reason: req.reason.trim().to_owned(),
        urgency: req.urgency,
        screening_id: req.screening_id,
        note: req.note,
        today: workflow::today(),
    };
    let referral = gate.refer(&request, state.notifier.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(view(gate.referral(referral.id).await?))))
}

#[utoipa::path(
    get,
    path = "/api/v1/referrals/{id}",
    operation_id = "show_referral",
    tag = "referrals",
    params(("id" = String, Path, description = "The referral's id")),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "The referral and its history", body = ReferralView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such referral, or neither sent nor received by this organisation", body = ErrorBody)
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ReferralView>, WebError> {
    Ok(Json(view(caller.gate(&state).referral(parse_id(&id)?).await?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// accept, decline, redirect, attend, no_show, cancel, close or rebook.
    pub step: String,
    /// Why (decline, redirect, no_show, cancel).
    #[serde(default)]
    pub reason: String,
    /// What stood in the way (decline, no_show, cancel): cost, distance, stigma, documents,
    /// language, waiting_time, disability_access, other.
    #[serde(default)]
    pub barrier: String,
    /// The outcome (close).
    #[serde(default)]
    pub outcome: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/referrals/{id}/transitions",
    tag = "referrals",
    params(("id" = String, Path, description = "The referral's id")),
    request_body = StepRequest,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "The referral after the step", body = ReferralView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such referral, or neither sent nor received by this organisation", body = ErrorBody),
        (status = 409, description = "The step is not allowed now, or not for this side; the message says what is", body = ErrorBody),
        (status = 422, description = "Unknown step, or a missing reason, barrier or outcome", body = ErrorBody)
    )
)]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StepRequest>,
) -> Result<Json<ReferralView>, WebError> {
    let step = hamroh_domain::referral::Transition::parse(&req.step, &req.reason, &req.barrier, &req.outcome)?;
    let detail = caller.gate(&state).transition(parse_id(&id)?, &step, state.notifier.as_ref()).await?;
    Ok(Json(view(detail)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceView {
    pub id: Uuid,
    pub name: String,
    pub organisation: String,
    pub sector: Sector,
    pub service_type: String,
    pub languages: Vec<ServiceLanguage>,
    pub cost: Cost,
    pub accessible: bool,
    pub contact: Option<String>,
    pub opening_hours: Option<String>,
    /// Takes referrals in Hamroh; otherwise a paper slip is printed.
    pub uses_hamroh: bool,
    pub districts: Vec<String>,
}

impl From<ServiceEntry> for ServiceView {
    fn from(s: ServiceEntry) -> Self {
        Self {
            id: s.id,
            name: s.name,
            organisation: s.organisation,
            sector: s.sector,
            service_type: s.service_type,
            languages: s.languages,
            cost: s.cost,
            accessible: s.accessible,
            contact: s.contact,
            opening_hours: s.opening_hours,
            uses_hamroh: s.uses_hamroh,
            districts: s.districts,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryParams {
    /// Hamroh's district code, e.g. TJ-KT.kulob.
    #[serde(default)]
    district: Option<String>,
    /// A sector, e.g. rehabilitation.
    #[serde(default)]
    sector: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/services",
    tag = "referrals",
    params(DirectoryParams),
    responses(
        (status = 200, description = "The public directory of services (no personal data)", body = [ServiceView]),
        (status = 422, description = "Unknown sector", body = ErrorBody)
    )
)]
pub async fn services(
    State(state): State<AppState>,
    Query(p): Query<DirectoryParams>,
) -> Result<Json<Vec<ServiceView>>, WebError> {
    let sector = match p.sector.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<Sector>().map_err(|e| WebError::Invalid { code: "unknown_sector", message: e.to_string() })?,
        ),
        None => None,
    };
    Ok(Json(
        state
            .store
            .services()
            .await?
            .into_iter()
            .filter(|s| s.serves(p.district.as_deref().unwrap_or_default(), sector))
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerLinkRequest {
    /// A phone number (+992…) or an e-mail address to send the link to through the outbox; none
    /// to print it on the slip only.
    #[serde(default)]
    pub send_to: Option<String>,
    /// Days the link works: 1 to 365, 30 when absent.
    #[serde(default)]
    pub days: Option<i64>,
    /// The language of the message that sends it: tg, ru or en (the caller's when absent).
    #[serde(default)]
    pub lang: Option<hamroh_domain::org::Lang>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerLinkView {
    pub id: Uuid,
    /// The link: shown once, never stored (the store keeps its SHA-256).
    pub url: String,
    pub expires_at: i64,
    /// Messages queued to send it.
    pub sent: usize,
}

#[utoipa::path(
    post,
    path = "/api/v1/referrals/{id}/partner-link",
    tag = "referrals",
    params(("id" = String, Path, description = "The referral's id")),
    request_body = PartnerLinkRequest,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "A new link for the receiving service (an earlier one stops working)", body = PartnerLinkView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such referral, or not sent by this organisation", body = ErrorBody),
        (status = 422, description = "The service uses Hamroh, the referral is finished, or days or send_to are invalid", body = ErrorBody)
    )
)]
pub async fn issue_partner_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<PartnerLinkRequest>,
) -> Result<(StatusCode, Json<PartnerLinkView>), WebError> {
    let id = parse_id(&id)?;
    let gate = caller.gate(&state);
    let r = gate.referral(id).await?;
    let days = req.days.unwrap_or(hamroh_store::DEFAULT_LINK_DAYS);
    let token = crate::session::new_token();
    let https = crate::session::is_https(&headers);
    let url = crate::partner_link::link_url(&state, &headers, https, &token);
    let lang = req.lang.unwrap_or_else(|| caller.user.as_ref().map_or(hamroh_domain::org::Lang::Tg, |u| u.lang));
    let expires = crate::i18n::local_time(hamroh_store::now_millis() + days.clamp(1, 365) * 86_400_000);
    let messages = match req.send_to.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Vec::new(),
        Some(to) => {
            let message = crate::partner_link::link_message(&crate::i18n::Tr::new(lang), to, &r, &url, &expires);
            vec![message.ok_or_else(|| WebError::Invalid {
                code: "link_send_to_invalid",
                message: "send_to: give a phone number (+992...) or an e-mail address".into(),
            })?]
        }
    };
    let line = gate.issue_partner_link(id, &crate::session::token_hash(&token), days, &messages).await?;
    Ok((
        StatusCode::CREATED,
        Json(PartnerLinkView { id: line.id, url, expires_at: line.expires_at, sent: messages.len() }),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedView {
    /// How many working links were revoked.
    pub revoked: u64,
}

#[utoipa::path(
    delete,
    path = "/api/v1/referrals/{id}/partner-link",
    tag = "referrals",
    params(("id" = String, Path, description = "The referral's id")),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "The referral's links no longer work", body = RevokedView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role does not work with people's records", body = ErrorBody),
        (status = 404, description = "No such referral, or not sent by this organisation", body = ErrorBody)
    )
)]
pub async fn revoke_partner_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RevokedView>, WebError> {
    let revoked = caller.gate(&state).revoke_partner_links(parse_id(&id)?).await?;
    Ok(Json(RevokedView { revoked }))
}
