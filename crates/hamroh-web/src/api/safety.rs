//! The self-harm safety loop through the API: the safety assessment of a red flag, a person's
//! follow-ups (set by the pathway or by hand), and the caller's worklist with red flags first.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hamroh_domain::model::{FollowUp, MANUAL, SafetyAssessment};
use hamroh_domain::referral::{FollowUpKind, FollowUpStatus};
use hamroh_domain::safety::{AssessmentInput, InputError, SafetyRecord};
use hamroh_store::{FollowUpChange, Listing, UrgentItem};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiJson;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ErrorBody, WebError};

fn parse_id(id: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(id).map_err(|_| WebError::not_found())
}

/// A safety assessment (mhGAP-IG 2.0, SUI), or, with `not_possible`, why none could be made.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyAssessmentRequest {
    /// The red flag assessed: `self_harm`.
    pub flag: String,
    /// Current thoughts of self-harm or suicide.
    pub thoughts: Option<bool>,
    /// A plan of self-harm or suicide.
    pub plan: Option<bool>,
    /// An act of self-harm in the past year.
    pub act_past_year: Option<bool>,
    /// Imminent risk (mhGAP SUI 1).
    pub imminent_risk: Option<bool>,
    /// Counselled on restricting access to means of self-harm.
    pub means_counselled: Option<bool>,
    /// Who to call, where to go, what helps, who is told (with consent).
    pub safety_plan: Option<String>,
    /// `stay_and_arrange_urgent_care`, `refer` or `manage_in_primary_care`.
    pub action: Option<String>,
    pub note: Option<String>,
    /// Instead of an assessment: `refused`, `unreachable`, `died` or `moved`.
    pub not_possible: Option<String>,
    /// Tries to reach the person (for `unreachable`, at least 3).
    pub attempts: Option<u32>,
}

impl SafetyAssessmentRequest {
    fn input(self) -> AssessmentInput {
        AssessmentInput {
            flag: self.flag,
            thoughts: self.thoughts,
            plan: self.plan,
            act_past_year: self.act_past_year,
            imminent_risk: self.imminent_risk,
            means_counselled: self.means_counselled,
            safety_plan: self.safety_plan,
            action: self.action,
            note: self.note,
            not_possible: self.not_possible,
            attempts: self.attempts,
        }
    }
}

/// A recorded safety assessment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SafetyAssessmentView {
    pub id: Uuid,
    pub encounter_id: Uuid,
    pub person_id: Uuid,
    pub flag: String,
    /// The assessment (`outcome`: `assessed`, with its answers) or why none was possible
    /// (`outcome`: `not_possible`, with `reason` and `attempts`).
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    pub at: i64,
    /// What to do next: with imminent risk, an `emergency` referral to a mental health service
    /// (the coordinators have been told).
    #[schema(value_type = Option<Object>)]
    pub next: Option<serde_json::Value>,
}

impl From<SafetyAssessment> for SafetyAssessmentView {
    fn from(a: SafetyAssessment) -> Self {
        let next = match &a.record {
            SafetyRecord::Assessed(x) if x.imminent_risk => Some(serde_json::json!({
                "refer": {"urgency": "emergency", "sector": "mental_health"},
                "href": format!("/persons/{}/refer?urgency=emergency&sector=mental_health", a.person_id),
            })),
            _ => None,
        };
        Self {
            id: a.id,
            encounter_id: a.encounter_id,
            person_id: a.person_id,
            flag: a.flag,
            record: serde_json::to_value(&a.record).unwrap_or_default(),
            at: a.at,
            next,
        }
    }
}

/// The record an assessment input makes, or the API's answer naming every field at fault.
pub(crate) fn parse_assessment(input: &AssessmentInput) -> Result<SafetyRecord, WebError> {
    input.parse().map_err(|e| match e {
        InputError::UnknownFlag(flag) => WebError::Invalid {
            code: "unknown_flag",
            message: format!("`{flag}` is not a red flag an assessment answers (known: self_harm)"),
        },
        InputError::Fields(problems) => WebError::Invalid {
            code: "invalid_assessment",
            message: problems.iter().map(|p| format!("{}: {}", p.field, p.code)).collect::<Vec<_>>().join("; "),
        },
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/encounters/{id}/safety-assessment",
    tag = "persons",
    params(("id" = String, Path, description = "The encounter's id")),
    request_body = SafetyAssessmentRequest,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "Recorded; the person's waiting flags of this kind leave the worklist", body = SafetyAssessmentView),
        (status = 404, description = "No such encounter, or not visible to this organisation", body = ErrorBody),
        (status = 409, description = "The encounter raised no such flag", body = ErrorBody),
        (status = 422, description = "An unknown flag (`unknown_flag`), or fields missing or contradicting each other, each named (`invalid_assessment`); nothing stored", body = ErrorBody)
    )
)]
pub async fn assess(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SafetyAssessmentRequest>,
) -> Result<(StatusCode, Json<SafetyAssessmentView>), WebError> {
    let id = parse_id(&id)?;
    let gate = caller.gate(&state);
    // Access first: a refusal never depends on the values sent.
    gate.encounter(id).await?;
    let input = req.input();
    let record = parse_assessment(&input)?;
    let assessment = gate.assess(id, &input.flag, record, state.notifier.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(assessment.into())))
}

/// A follow-up of a person.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FollowUpView {
    pub id: Uuid,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    /// `call`, `rescreen` or `visit`.
    pub kind: String,
    /// What set it: the flag or pathway rule (`self_harm`, `depression`, ...) or `manual`.
    pub source: String,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    pub encounter_id: Option<Uuid>,
    pub referral_id: Option<Uuid>,
    pub note: Option<String>,
    /// What came of it, or why it was cancelled.
    pub outcome: Option<String>,
}

impl From<FollowUp> for FollowUpView {
    fn from(f: FollowUp) -> Self {
        Self {
            id: f.id,
            due_date: f.due_date.to_string(),
            kind: f.kind.as_str().to_owned(),
            source: f.source,
            status: f.status.as_str().to_owned(),
            encounter_id: f.encounter_id,
            referral_id: f.referral_id,
            note: f.note,
            outcome: f.outcome,
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/persons/{id}/follow-ups",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Every follow-up of the person, by due date", body = Vec<FollowUpView>),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody)
    )
)]
pub async fn follow_ups(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<FollowUpView>>, WebError> {
    let list = caller.gate(&state).follow_ups(parse_id(&id)?).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// A follow-up set by hand.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFollowUp {
    /// `YYYY-MM-DD`, today or later.
    pub due_date: String,
    /// `call`, `rescreen` or `visit`.
    pub kind: String,
    pub note: Option<String>,
}

fn due_date(text: &str) -> Result<jiff::civil::Date, WebError> {
    let invalid = || WebError::Invalid {
        code: "invalid_due_date",
        message: "due_date: a date YYYY-MM-DD, today or later".into(),
    };
    let date: jiff::civil::Date = text.trim().parse().map_err(|_| invalid())?;
    if date < crate::today() || date > crate::today() + jiff::Span::new().years(2) { Err(invalid()) } else { Ok(date) }
}

fn note(text: Option<String>, field: &str) -> Result<Option<String>, WebError> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > 2_000) {
        return Err(WebError::Invalid { code: "too_long", message: format!("{field}: at most 2,000 characters") });
    }
    Ok(text)
}

#[utoipa::path(
    post,
    path = "/api/v1/persons/{id}/follow-ups",
    tag = "persons",
    params(("id" = String, Path, description = "The person's id")),
    request_body = NewFollowUp,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 201, description = "Added (`source`: `manual`)", body = FollowUpView),
        (status = 404, description = "No such person, or not visible to this organisation", body = ErrorBody),
        (status = 422, description = "An unknown kind or a date in the past; nothing stored", body = ErrorBody)
    )
)]
pub async fn add_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewFollowUp>,
) -> Result<(StatusCode, Json<FollowUpView>), WebError> {
    let person_id = parse_id(&id)?;
    caller.gate(&state).may_write(person_id).await?;
    let kind: FollowUpKind = req
        .kind
        .parse()
        .map_err(|_| WebError::Invalid { code: "invalid_kind", message: "kind: call, rescreen or visit".into() })?;
    let follow_up = FollowUp {
        id: Uuid::now_v7(),
        person_id,
        organisation_id: caller.principal.organisation_id,
        referral_id: None,
        kind,
        due_date: due_date(&req.due_date)?,
        status: FollowUpStatus::Open,
        note: note(req.note, "note")?,
        created_at: hamroh_store::now_millis(),
        created_by: Some(caller.principal.user_id),
        done_at: None,
        source: MANUAL.into(),
        encounter_id: None,
        outcome: None,
    };
    caller.gate(&state).add_follow_up(&follow_up).await?;
    Ok((StatusCode::CREATED, Json(follow_up.into())))
}

/// A change to an open follow-up.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpStep {
    /// `complete` (with an `outcome`), `cancel` (with a `reason`) or `reschedule` (with a
    /// `due_date`).
    pub action: String,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub due_date: Option<String>,
}

/// The change a step asks for, or why it is refused.
pub(crate) fn follow_up_change(
    action: &str,
    outcome: Option<String>,
    reason: Option<String>,
    due: Option<&str>,
) -> Result<FollowUpChange, WebError> {
    match action {
        "complete" => Ok(FollowUpChange::Complete { outcome: note(outcome, "outcome")? }),
        "cancel" => match note(reason, "reason")? {
            Some(reason) => Ok(FollowUpChange::Cancel { reason }),
            None => Err(WebError::Invalid { code: "reason_required", message: "reason: why it is cancelled".into() }),
        },
        "reschedule" => Ok(FollowUpChange::Reschedule { due_date: due_date(due.unwrap_or_default())? }),
        _ => {
            Err(WebError::Invalid { code: "invalid_action", message: "action: complete, cancel or reschedule".into() })
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/follow-ups/{id}",
    tag = "persons",
    params(("id" = String, Path, description = "The follow-up's id")),
    request_body = FollowUpStep,
    security(("session" = []), ("token" = [])),
    responses(
        (status = 200, description = "Changed", body = FollowUpView),
        (status = 404, description = "No such follow-up, or not visible to this organisation", body = ErrorBody),
        (status = 409, description = "The follow-up is no longer open", body = ErrorBody),
        (status = 422, description = "An unknown action, a cancellation without a reason or a date in the past", body = ErrorBody)
    )
)]
pub async fn change_follow_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<FollowUpStep>,
) -> Result<Json<FollowUpView>, WebError> {
    let id = parse_id(&id)?;
    caller.gate(&state).writable_follow_up(id).await?;
    let change = follow_up_change(&req.action, req.outcome, req.reason, req.due_date.as_deref())?;
    let changed = caller.gate(&state).change_follow_up(id, &change).await?;
    Ok(Json(changed.into()))
}

/// A person with red flags waiting for their safety assessment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RedFlagItem {
    pub person_id: Uuid,
    pub person_code: String,
    /// The person's name, for the caller's own organisation's persons only.
    pub name: Option<String>,
    /// The latest flagged encounter waiting for its assessment.
    pub encounter_id: Uuid,
    /// Every waiting flag.
    pub flags: Vec<String>,
    /// The first flag was raised at (milliseconds since the Unix epoch).
    pub raised_at: i64,
    /// Always false here: an assessed flag leaves the list.
    pub assessed: bool,
    /// Raised without a face-to-face visit: contact the person today.
    pub contact_today: bool,
    /// Not assessed within the limit: the coordinators were told.
    pub escalated: bool,
    /// The organisation where the flag waits.
    pub organisation_id: Uuid,
    pub organisation: String,
}

/// A section of the worklist: rows and how many there are (counted up to 500).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorklistSection<T> {
    pub count: usize,
    pub rows: Vec<T>,
}

fn section<U, T>(listing: Listing<U>, row: impl Fn(U) -> T) -> WorklistSection<T> {
    WorklistSection { count: listing.count, rows: listing.rows.into_iter().map(row).collect() }
}

/// A referral or follow-up row of the worklist.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkItem {
    pub id: Uuid,
    /// The person, where the row is about one (follow-ups, lost to follow-up).
    pub person_id: Option<Uuid>,
    pub person_code: String,
    pub label: String,
    pub due_date: String,
}

/// The caller's worklist, the most urgent first: red flags, then referrals awaiting an answer,
/// overdue referrals, follow-ups due and people lost to follow-up.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Worklist {
    pub red_flags: WorklistSection<RedFlagItem>,
    /// Encounters that never asked about self-harm and gave no reason (imports, the API), until a
    /// later encounter of the person asks: `id` is the encounter.
    pub self_harm_not_asked: WorklistSection<WorkItem>,
    pub inbox: WorklistSection<WorkItem>,
    /// Referrals the caller's organisation sent that changed state in the last 7 days, newest first.
    pub answers: WorklistSection<WorkItem>,
    pub overdue: WorklistSection<WorkItem>,
    pub follow_ups_due: WorklistSection<WorkItem>,
    pub lost_to_follow_up: WorklistSection<WorkItem>,
    /// For coordinators: red flags of every organisation escalated for want of an assessment.
    pub escalated_red_flags: Option<WorklistSection<RedFlagItem>>,
    /// The national emergency numbers (`name` in tg, ru and en, `phone`, `hours`), to stand beside
    /// the red flags; each district's psychiatric emergency service is on the person's page.
    #[schema(value_type = Vec<Object>)]
    pub emergency_contacts: serde_json::Value,
}

fn red_flag_row(names: &std::collections::HashMap<Uuid, String>) -> impl Fn(UrgentItem) -> RedFlagItem + '_ {
    move |u| RedFlagItem {
        name: names.get(&u.person_id).cloned(),
        person_id: u.person_id,
        person_code: u.person_code,
        encounter_id: u.encounter_id,
        flags: u.flags.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
        raised_at: u.at,
        assessed: false,
        contact_today: u.contact_today,
        escalated: u.escalated,
        organisation_id: u.organisation_id,
        organisation: u.organisation,
    }
}

const API_ROWS: usize = 100;

#[utoipa::path(
    get,
    path = "/api/v1/worklist",
    tag = "persons",
    security(("session" = []), ("token" = [])),
    responses((status = 200, description = "The caller's worklist, red flags first", body = Worklist))
)]
pub async fn worklist(State(state): State<AppState>, caller: Caller) -> Result<Json<Worklist>, WebError> {
    let store = &state.store;
    let org = caller.principal.organisation_id;
    let today = crate::today();
    let flags = store.urgent_items(org, API_ROWS).await?;
    let ids: Vec<Uuid> = flags.rows.iter().map(|u| u.person_id).collect();
    let names = caller.gate(&state).own_names(&ids).await?;
    let referral = |r: hamroh_store::ReferralItem| WorkItem {
        id: r.id,
        person_id: None,
        person_code: r.person_code,
        label: format!("{} → {}", r.code, r.service),
        due_date: r.due_date,
    };
    let lost_cutoff = hamroh_store::now_millis() - state.safety_net.lost_after_days * 86_400_000;
    let due = (today + jiff::Span::new().days(7)).to_string();
    let escalated_red_flags = if caller.principal.has_role(hamroh_domain::org::Role::Coordinator) {
        let none = std::collections::HashMap::new();
        Some(section(store.escalated_items(None, API_ROWS).await?, red_flag_row(&none)))
    } else {
        None
    };
    Ok(Json(Worklist {
        red_flags: section(flags, red_flag_row(&names)),
        // Due at the person's next contact: no date.
        self_harm_not_asked: section(store.self_harm_not_asked(org, API_ROWS).await?, |(person_id, code, e, _)| {
            WorkItem {
                id: e,
                person_id: Some(person_id),
                person_code: code,
                label: "self_harm_not_asked".into(),
                due_date: String::new(),
            }
        }),
        inbox: section(store.inbox(org, API_ROWS).await?, referral),
        answers: section(
            store.sent_updates(org, hamroh_store::now_millis() - 7 * 86_400_000, API_ROWS).await?,
            referral,
        ),
        overdue: section(store.overdue_referrals(Some(org), &today.to_string(), API_ROWS).await?, referral),
        follow_ups_due: section(store.follow_ups_due(Some(org), &due, API_ROWS).await?, |f| WorkItem {
            id: f.id,
            person_id: Some(f.person_id),
            person_code: f.person_code,
            label: f.kind,
            due_date: f.due_date,
        }),
        lost_to_follow_up: section(store.lost_to_follow_up(Some(org), lost_cutoff, API_ROWS).await?, |l| WorkItem {
            id: l.person_id,
            person_id: Some(l.person_id),
            person_code: l.person_code,
            label: "lost_to_follow_up".into(),
            due_date: String::new(),
        }),
        escalated_red_flags,
        emergency_contacts: serde_json::to_value(state.emergency.national()).unwrap_or_default(),
    }))
}
