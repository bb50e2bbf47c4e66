//! Keeping a person's record current: phone, district, a work injury learnt of later, a later stay
//! abroad; with the history of what each change replaced. The store's gate decides who may change
//! a record, audits the change and keeps the previous values.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::geo;
use hamroh_domain::migration::{BodyPart, DESTINATIONS, InjuryCause, LegalStatus, ReturnReason, WorkSector};
use hamroh_domain::record_update::{InjuryUpdate, RecordUpdate};
use hamroh_domain::registration::EpisodeInput;
use uuid::Uuid;

use super::form::{FormState, form_pairs};
use super::persons::local_time;
use super::{Chrome, error_page, page};
use crate::AppState;
use crate::auth::Caller;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::Viewer;

/// The choices of the person forms (registration and this one), in the viewer's language.
pub struct Choices {
    pub regions: Vec<(String, Vec<(&'static str, String)>)>,
    pub countries: Vec<(&'static str, String)>,
    pub work_sectors: Vec<(&'static str, String)>,
    pub legal_statuses: Vec<(&'static str, String)>,
    pub return_reasons: Vec<(&'static str, String)>,
    pub injury_causes: Vec<(&'static str, String)>,
    pub body_parts: Vec<(&'static str, String)>,
}

fn labels<T: Copy>(t: &Tr, prefix: &str, all: &[T], code: impl Fn(T) -> &'static str) -> Vec<(&'static str, String)> {
    all.iter().map(|v| (code(*v), t.get(&format!("{prefix}-{}", code(*v))))).collect()
}

impl Choices {
    pub fn new(t: &Tr) -> Self {
        let lang = t.lang;
        let regions = geo::REGIONS
            .iter()
            .map(|r| {
                let districts =
                    geo::districts_of(r.code).map(|d| (d.code, lang.pick(d.en, d.ru, d.tg).to_owned())).collect();
                (lang.pick(r.en, r.ru, r.tg).to_owned(), districts)
            })
            .collect();
        Choices {
            regions,
            countries: DESTINATIONS.iter().map(|c| (c.code, lang.pick(c.en, c.ru, c.tg).to_owned())).collect(),
            work_sectors: labels(t, "work_sector", WorkSector::ALL, WorkSector::as_str),
            legal_statuses: labels(t, "legal_status", LegalStatus::ALL, LegalStatus::as_str),
            return_reasons: labels(t, "return_reason", ReturnReason::ALL, ReturnReason::as_str),
            injury_causes: labels(t, "injury_cause", InjuryCause::ALL, InjuryCause::as_str),
            body_parts: labels(t, "body_part", BodyPart::ALL, BodyPart::as_str),
        }
    }
}

/// The stay abroad typed into the `ep.*` fields of a form.
pub fn episode_from(f: &FormState) -> EpisodeInput {
    EpisodeInput {
        destination_country: f.val("ep.destination_country").to_owned(),
        destination_region: f.val("ep.destination_region").to_owned(),
        year_from: f.val("ep.year_from").to_owned(),
        year_to: f.val("ep.year_to").to_owned(),
        work_sector: f.val("ep.work_sector").to_owned(),
        occupation: f.val("ep.occupation").to_owned(),
        legal_status: f.val("ep.legal_status").to_owned(),
        return_date: f.val("ep.return_date").to_owned(),
        return_reason: f.val("ep.return_reason").to_owned(),
        injury: f.val("ep.injury") == "yes",
        injury_cause: f.val("ep.injury_cause").to_owned(),
        injury_body_part: f.val("ep.injury_body_part").to_owned(),
    }
}

/// A recorded stay abroad on the form: its work injury can be given, changed or removed.
pub struct StayView {
    /// Its place in the form (`injuries.<n>.*`).
    pub n: usize,
    pub id: Uuid,
    pub title: String,
    /// The form's values and errors for its injury.
    pub injured: bool,
    pub cause: String,
    pub body_part: String,
    pub cause_error: String,
    pub body_part_error: String,
}

impl StayView {
    pub fn cause_is(&self, code: &str) -> bool {
        self.cause == code
    }

    pub fn body_part_is(&self, code: &str) -> bool {
        self.body_part == code
    }
}

pub struct ChangeRow {
    pub at: String,
    pub by: String,
    pub field: String,
    pub previous: String,
    pub current: String,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    c: Chrome,
    person_id: Uuid,
    code: String,
    f: FormState,
    ch: Choices,
    stays: Vec<StayView>,
    history: Vec<ChangeRow>,
}

/// A stored value as the history shows it, in the viewer's language where it is a code.
fn shown(t: &Tr, field: &str, value: Option<&str>) -> String {
    let Some(v) = value else { return "—".to_owned() };
    match field {
        "district" => hamroh_domain::person::DistrictCode::parse(v)
            .map_or_else(|_| v.to_owned(), |d| super::persons::district_name(t.lang, d)),
        "injury" => match v.split_once('/') {
            Some((cause, part)) => {
                format!("{} · {}", t.get(&format!("injury_cause-{cause}")), t.get(&format!("body_part-{part}")))
            }
            None => v.to_owned(),
        },
        _ => v.to_owned(),
    }
}

async fn record_page(
    state: &AppState,
    viewer: &Viewer,
    caller: &Caller,
    id: Uuid,
    form: Option<(StatusCode, FormState)>,
) -> Result<Response, WebError> {
    let gate = caller.gate(state);
    gate.may_write(id).await?;
    let (person, _, episodes) = gate.person_record(id, true).await?;
    let changes = gate.record_changes(id).await?;
    let t = &viewer.tr;
    let (status, f) = form.unwrap_or_else(|| {
        let mut f = FormState::default();
        f.set("phone", person.phone.as_ref().map_or("", |p| p.as_str()));
        f.set("district", person.district.as_str());
        f.set("ep.legal_status", "unknown");
        for (n, e) in episodes.iter().enumerate() {
            if let Some(cause) = &e.6 {
                f.set(&format!("injuries.{n}.injury"), "yes");
                f.set(&format!("injuries.{n}.injury_cause"), cause);
                f.set(&format!("injuries.{n}.injury_body_part"), e.7.as_deref().unwrap_or_default());
            }
        }
        (StatusCode::OK, f)
    });
    let stays = episodes
        .iter()
        .enumerate()
        .map(|(n, (episode, country, from, to, sector, ..))| {
            let country = hamroh_domain::migration::country(country)
                .map_or_else(|_| country.clone(), |c| t.lang.pick(c.en, c.ru, c.tg).to_owned());
            let years = to.map_or_else(|| format!("{from}–"), |to| format!("{from}–{to}"));
            let field = |name: &str| format!("injuries.{n}.{name}");
            StayView {
                n,
                id: *episode,
                title: format!("{country} {years} · {}", t.get(&format!("work_sector-{sector}"))),
                injured: f.val(&field("injury")) == "yes",
                cause: f.val(&field("injury_cause")).to_owned(),
                body_part: f.val(&field("injury_body_part")).to_owned(),
                cause_error: f.err(&field("injury_cause")).to_owned(),
                body_part_error: f.err(&field("injury_body_part")).to_owned(),
            }
        })
        .collect();
    let history = changes
        .iter()
        .map(|c| ChangeRow {
            at: local_time(c.changed_at),
            by: c.changed_by_name.clone().unwrap_or_default(),
            field: t.get(&format!("record-field-{}", c.field)),
            previous: shown(t, &c.field, c.previous.as_deref()),
            current: shown(t, &c.field, c.current.as_deref()),
        })
        .collect();
    let template =
        RecordPage { c: Chrome::new(viewer), person_id: id, code: person.code, f, ch: Choices::new(t), stays, history };
    Ok(page(viewer, status, &template))
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    record_page(&state, &viewer, &caller, id, None).await.unwrap_or_else(|e| error_page(&viewer, e))
}

/// The update the form asks for: every field it shows (unchanged values change nothing).
fn update_from(f: &FormState) -> RecordUpdate {
    let injuries = (0..)
        .map_while(|n| {
            let field = |name: &str| f.val(&format!("injuries.{n}.{name}")).to_owned();
            let episode_id = Uuid::parse_str(&field("episode_id")).ok()?;
            Some(InjuryUpdate {
                episode_id,
                injury: field("injury") == "yes",
                injury_cause: field("injury_cause"),
                injury_body_part: field("injury_body_part"),
            })
        })
        .collect();
    RecordUpdate {
        phone: Some(f.val("phone").to_owned()),
        district: Some(f.val("district").to_owned()),
        add_episode: Some(episode_from(f)),
        injuries,
    }
}

pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
    let gate = caller.gate(&state);
    // Asked before the values are looked at, so that a refusal never depends on them.
    if let Err(e) = gate.may_write(id).await {
        return error_page(&viewer, e.into());
    }
    let pairs = form_pairs(&body);
    let mut f = FormState::from_pairs(&pairs);
    let change = match update_from(&f).validate(id, crate::workflow::today()) {
        Ok(c) => c,
        Err(errors) => {
            for e in errors {
                let field = e.field.replace("add_episode.", "ep.");
                f.error(&field, viewer.tr.get(e.message));
            }
            let form = Some((StatusCode::UNPROCESSABLE_ENTITY, f));
            return record_page(&state, &viewer, &caller, id, form).await.unwrap_or_else(|e| error_page(&viewer, e));
        }
    };
    match gate.change_record(id, &change).await {
        Ok(_) => Redirect::to(&format!("/persons/{id}")).into_response(),
        Err(e) => error_page(&viewer, e.into()),
    }
}
