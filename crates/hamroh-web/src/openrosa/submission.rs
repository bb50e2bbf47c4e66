//! `submission`: an instance filled offline, stored once by its instance id. A screening is
//! scored by the engine and stored as a remote encounter (its red flags ask for contact today:
//! the visit may be days old); a registration is checked for likely duplicates and, when it may
//! name someone registered, held for a person to decide.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use hamroh_domain::instrument::{Instrument, catalog};
use hamroh_interop::xforms::{Submitted, SubmittedEncounter, SubmittedRegistration, read_instance};
use hamroh_store::{Received, StoreError, SubmissionKey};
use sha2::Digest;
use uuid::Uuid;

use super::{ACCEPT_CONTENT_LENGTH, Device, MAX_SUBMISSION, SOURCE, answer, failure};
use crate::AppState;
use crate::error::WebError;
use crate::workflow;

/// How far ahead of the server's clock a device's may run.
const CLOCK_SKEW: i64 = 5 * 60 * 1000;
/// 2000-01-01: no interview in Hamroh is older.
const EARLIEST: i64 = 946_684_800_000;

/// `HEAD submission`: the device asks before it sends.
pub async fn head(_device: Device) -> Response {
    let mut r = answer(StatusCode::NO_CONTENT, "");
    *r.body_mut() = axum::body::Body::empty();
    r.headers_mut().remove(axum::http::header::CONTENT_TYPE);
    r.headers_mut().insert(ACCEPT_CONTENT_LENGTH, HeaderValue::from(MAX_SUBMISSION));
    r
}

/// `POST submission`, `multipart/form-data` with the instance in `xml_submission_file`.
pub async fn submit(
    State(state): State<AppState>,
    device: Device,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let mut response = receive(&state, &device, multipart).await;
    response.headers_mut().insert(ACCEPT_CONTENT_LENGTH, HeaderValue::from(MAX_SUBMISSION));
    response
}

async fn receive(state: &AppState, device: &Device, multipart: Result<Multipart, MultipartRejection>) -> Response {
    let tr = device.tr();
    let bad = |message: String| answer(StatusCode::BAD_REQUEST, &message);
    let xml = match instance_part(multipart).await {
        Ok(xml) => xml,
        Err(message) => return bad(message),
    };
    let submitted = match read_instance(&xml, catalog()) {
        Ok(s) => s,
        Err(message) => return bad(message),
    };
    let digest = hex::encode(sha2::Sha256::digest(&xml));
    let key = SubmissionKey { source: SOURCE, id: submitted.instance_id(), digest: &digest };
    let received = match &submitted {
        Submitted::Encounter(e) => encounter(state, device, e, &key).await,
        Submitted::Registration(r) => registration(state, device, r, &key).await,
    };
    match received {
        Ok(Received::Stored) => answer(StatusCode::CREATED, &tr.get("openrosa-stored")),
        Ok(Received::Held) => answer(StatusCode::CREATED, &tr.get("openrosa-held")),
        Ok(Received::Again) => answer(StatusCode::ACCEPTED, &tr.get("openrosa-duplicate")),
        Ok(Received::Different) => answer(StatusCode::CONFLICT, &tr.get("openrosa-changed")),
        Err(Refused::Invalid(message)) => bad(message),
        Err(Refused::Error(e)) => failure(&tr, e),
    }
}

enum Refused {
    /// The instance cannot be stored as it is: the device shows why.
    Invalid(String),
    Error(WebError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Self::Error(e.into())
    }
}

/// The XML of the instance part; attachments (Hamroh's forms have none) are read past.
async fn instance_part(multipart: Result<Multipart, MultipartRejection>) -> Result<Vec<u8>, String> {
    let mut multipart =
        multipart.map_err(|e| format!("send the instance as multipart/form-data with `xml_submission_file`: {e}"))?;
    while let Some(field) = multipart.next_field().await.map_err(|e| format!("the submission is cut short: {e}"))? {
        if field.name() == Some("xml_submission_file") {
            let bytes = field.bytes().await.map_err(|e| format!("the submission is cut short: {e}"))?;
            return Ok(bytes.to_vec());
        }
    }
    Err("the submission has no `xml_submission_file` part".into())
}

/// When the interview began, checked against the server's clock; now when the form did not say.
fn interview_time(at: Option<i64>) -> Result<i64, Refused> {
    let now = hamroh_store::now_millis();
    match at {
        None => Ok(now),
        Some(t) if t > now + CLOCK_SKEW => {
            Err(Refused::Invalid("interview_at: the interview is dated in the future; check the device's clock".into()))
        }
        Some(t) if t < EARLIEST => Err(Refused::Invalid("interview_at: the interview is dated before 2000".into())),
        Some(t) => Ok(t),
    }
}

async fn encounter(
    state: &AppState,
    device: &Device,
    e: &SubmittedEncounter,
    key: &SubmissionKey<'_>,
) -> Result<Received, Refused> {
    if let Some(seen) = key.seen(&state.store).await? {
        return Ok(seen);
    }
    let at = interview_time(e.at)?;
    let no_person =
        || Refused::Invalid(format!("person_code: nobody with the id {} is registered here", e.person_code));
    let person = state.store.persons_by_code(std::slice::from_ref(&e.person_code)).await?.into_iter().next();
    let person = person.ok_or_else(no_person)?;
    // Whether this user may write the person's record, before anything about it is used.
    match device.gate(state).may_write(person.id).await {
        Err(StoreError::NotFound) => return Err(no_person()),
        other => other?,
    }
    if e.sex.is_some_and(|s| s != person.sex) {
        return Err(Refused::Invalid(format!(
            "respondent_sex: the record of {} gives another sex; check the person's id",
            e.person_code
        )));
    }
    let mut inputs: Vec<(&Instrument, Vec<Option<i64>>)> = Vec::new();
    for (id, answers) in &e.answers {
        let instrument = catalog().get(id).ok_or_else(|| Refused::Invalid(format!("no instrument `{id}`")))?;
        inputs.push((instrument, answers.clone()));
    }
    let screenings = workflow::score_encounter(&state.cutoffs, &device.principal, &person, (e.lang, at), &inputs)
        .map_err(|problems| Refused::Invalid(workflow::problems_text(&problems)))?;
    match device.gate(state).record_submitted_encounter(person.id, &screenings, key, state.notifier.as_ref()).await {
        Err(StoreError::NotFound) => Err(no_person()),
        other => Ok(other?),
    }
}

async fn registration(
    state: &AppState,
    device: &Device,
    r: &SubmittedRegistration,
    key: &SubmissionKey<'_>,
) -> Result<Received, Refused> {
    if let Some(seen) = key.seen(&state.store).await? {
        return Ok(seen);
    }
    let at = interview_time(r.at)?;
    let ctx = workflow::registration_context(&device.principal, at);
    let tr = device.tr();
    let record = r.registration.validate(&ctx).map_err(|errors| {
        Refused::Invalid(
            errors.iter().map(|e| format!("{}: {}", e.field, tr.get(e.message))).collect::<Vec<_>>().join("; "),
        )
    })?;
    let gate = device.gate(state);
    let candidates: Vec<Uuid> = gate.likely_duplicates(&record.person).await?.into_iter().map(|c| c.id).collect();
    if candidates.is_empty() {
        Ok(gate.register_submitted(record, key).await?)
    } else {
        Ok(gate.hold_registration(&r.registration, &candidates, key).await?)
    }
}
