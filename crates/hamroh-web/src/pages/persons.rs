//! A person's record and audit trail. What may be seen is decided by the store's gate; a refusal
//! looks exactly like a record that does not exist.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::consent::ConsentScope;
use hamroh_domain::model::Person;
use hamroh_domain::org::{Lang, Role};
use hamroh_store::AuditEvent;
use uuid::Uuid;

use super::form::form_pairs;
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
    name: String,
    /// Stays abroad, the latest first: country, years, work sector, return date, work injury.
    episodes: Vec<(String, String, String, String, String)>,
    /// The person's phone, where this viewer may see it (as with the name).
    phone: String,
    sex: String,
    district: String,
    consents: Vec<(String, String)>,
    /// Consents the person has not given (or withdrew), which can be recorded now.
    consents_to_give: Vec<(String, String)>,
    /// How a consent can be given: (code, label).
    consent_modes: Vec<(&'static str, String)>,
    /// (title, SVG) per instrument with screenings.
    charts: Vec<(String, String)>,
    /// Encounter id, date, results, flags, decision.
    encounters: Vec<(Uuid, String, String, String, String)>,
    /// Date, service, status, due date, id.
    referrals: Vec<(String, String, String, String, Uuid)>,
    /// Id, text, still open.
    follow_ups: Vec<(Uuid, String, bool)>,
    can_audit: bool,
    /// Red flags waiting for their safety assessment: (link, text).
    waiting: Vec<(String, String)>,
    /// Who to call, while a self-harm flag waits.
    emergency: Option<super::EmergencyView>,
    /// Follow-up kinds for the form that adds one.
    kinds: Vec<(&'static str, String)>,
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

pub use crate::i18n::local_time;

pub fn consent_label(t: &Tr, scope: &ConsentScope) -> String {
    consent_label_named(t, scope, &[])
}

/// The ways a consent can be given, for a form's choice: (code, label).
pub fn consent_modes(t: &Tr) -> Vec<(&'static str, String)> {
    hamroh_domain::consent::ConsentMode::ALL.iter().map(|m| (m.as_str(), t.get(&format!("consent-how-{m}")))).collect()
}

/// A consent scope in words, a named organisation by its name where `organisations` has it.
pub fn consent_label_named(
    t: &Tr,
    scope: &ConsentScope,
    organisations: &[hamroh_domain::model::Organisation],
) -> String {
    match scope {
        ConsentScope::Care => t.get("consent-care"),
        ConsentScope::Research => t.get("consent-research"),
        ConsentScope::Sector(s) => t.with("consent-sector", &[("sector", t.get(&format!("sector-{s}")))]),
        ConsentScope::Organisation(id) => {
            let name = organisations
                .iter()
                .find(|o| o.id == *id)
                .map_or_else(|| id.to_string(), |o| crate::words::name(t, &o.words()));
            t.with("consent-organisation", &[("organisation", name)])
        }
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
    // One access decision and one audit commit for the whole page.
    let hamroh_store::PersonPageRecord { person, consents, episodes, screenings, follow_ups, referrals, choices } =
        gate.person_page(id).await?;
    let t = &viewer.tr;
    // Read after the gate let the person through, under its audited read of the consents.
    let decisions = state.store.consent_decisions(id).await?;
    let organisations = state.store.organisations().await?;
    // Read after the gate let the person through: the flags of a record the viewer may see.
    let waiting: Vec<(String, String)> = state
        .store
        .waiting_flags_of(id)
        .await?
        .into_iter()
        .map(|(encounter, flags, contact_today, escalated)| {
            let mut text: Vec<String> =
                flags.split(',').filter(|f| !f.is_empty()).map(|f| super::clinical::flag_label(t, f)).collect();
            text.push(t.get("safety-missing"));
            if contact_today {
                text.push(t.get("safety-contact-today"));
            }
            if escalated {
                text.push(t.get("worklist-flag-escalated"));
            }
            (format!("/encounters/{encounter}#safety"), text.join(" "))
        })
        .collect();
    let mut charts = Vec::new();
    for inst in hamroh_domain::instrument::catalog().iter() {
        let points: Vec<(String, i64)> = screenings
            .iter()
            .filter(|s| s.instrument == inst.id)
            .filter_map(|s| s.outcome.total.map(|v| (local_time(s.encounter_at), v)))
            .collect();
        if points.is_empty() {
            continue;
        }
        let title = t.with("chart-title", &[("instrument", inst.short_name.clone())]);
        let cutoff = inst.positive.as_ref().map(|p| p.for_sex(Some(person.sex)));
        charts.push((
            title.clone(),
            crate::chart::score_line(&title, &points, inst.scoring.min, inst.scoring.max, cutoff),
        ));
    }
    let mut encounters: Vec<(Uuid, String, String, String, String)> = Vec::new();
    // Encounters that never asked about self-harm say so (mhGAP SUI 1).
    let mut not_asked: Vec<Uuid> = screenings.iter().map(|s| s.encounter_id).collect();
    not_asked.sort();
    not_asked.dedup();
    not_asked
        .retain(|e| !hamroh_domain::safety::asked_about_self_harm(screenings.iter().filter(|s| s.encounter_id == *e)));
    let reasons: std::collections::HashMap<Uuid, String> = state
        .store
        .self_harm_unasked_of(id)
        .await?
        .into_iter()
        .filter_map(|(e, r)| r.map(|r| (e, t.get(&format!("screen-not-asked-{r}")))))
        .collect();
    for s in screenings.iter().rev() {
        let result = format!(
            "{} {}{}",
            hamroh_domain::instrument::catalog()
                .get(&s.instrument)
                .map_or(s.instrument.clone(), |i| i.short_name.clone()),
            s.outcome.total.map_or(String::new(), |v| v.to_string()),
            s.outcome.band.as_ref().map(|_| format!(" ({})", super::clinical::band_label(t, s))).unwrap_or_default()
        );
        let mut flags: Vec<String> = s.outcome.flags.iter().map(|f| super::clinical::flag_label(t, f)).collect();
        if not_asked.contains(&s.encounter_id) && !encounters.iter().any(|e| e.0 == s.encounter_id) {
            flags.push(match reasons.get(&s.encounter_id) {
                Some(why) => format!("{}: {why}", t.get("safety-not-asked")),
                None => t.get("safety-not-asked"),
            });
        }
        match encounters.iter_mut().find(|e| e.0 == s.encounter_id) {
            Some(e) => {
                e.2 = format!("{}; {result}", e.2);
                if !flags.is_empty() {
                    e.3 = [e.3.clone(), flags.join(", ")]
                        .into_iter()
                        .filter(|x| !x.is_empty())
                        .collect::<Vec<_>>()
                        .join(", ");
                }
            }
            None => {
                let decision = match choices.get(&s.encounter_id).map(String::as_str) {
                    Some("follow") => t.get("decision-followed"),
                    Some(_) => t.get("decision-other"),
                    None => t.get("decision-pending"),
                };
                encounters.push((s.encounter_id, local_time(s.encounter_at), result, flags.join(", "), decision));
            }
        }
    }
    let name = [person.family_name.as_deref(), person.given_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let template = PersonPage {
        c: Chrome::new(viewer),
        name,
        episodes: episodes
            .into_iter()
            .map(|(_, country, from, to, sector, returned, cause, part)| {
                let country = hamroh_domain::migration::country(&country).map_or(country.clone(), |c| {
                    match t.lang {
                        Lang::Tg => c.tg,
                        Lang::Ru => c.ru,
                        Lang::En => c.en,
                    }
                    .to_owned()
                });
                let injury = match (cause, part) {
                    (Some(c), Some(p)) => {
                        format!("{} · {}", t.get(&format!("injury_cause-{c}")), t.get(&format!("body_part-{p}")))
                    }
                    (Some(c), None) => t.get(&format!("injury_cause-{c}")),
                    _ => String::new(),
                };
                (
                    country,
                    to.map_or_else(|| format!("{from}–"), |to| format!("{from}–{to}")),
                    t.get(&format!("work_sector-{sector}")),
                    returned.unwrap_or_default(),
                    injury,
                )
            })
            .collect(),
        phone: person.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        sex: t.get(&format!("sex-{}", person.sex)),
        district: district_name(t.lang, person.district),
        consents_to_give: std::iter::once(ConsentScope::Care)
            .chain(std::iter::once(ConsentScope::Research))
            .chain(hamroh_domain::org::Sector::ALL.iter().map(|s| ConsentScope::Sector(*s)))
            .chain(
                organisations
                    .iter()
                    .filter(|o| o.id != person.organisation_id)
                    .map(|o| ConsentScope::Organisation(o.id)),
            )
            .filter(|s| !consents.contains(s))
            .map(|s| (s.to_string(), consent_label_named(t, &s, &organisations)))
            .collect(),
        consents: consents
            .iter()
            .map(|s| {
                let mut label = consent_label_named(t, s, &organisations);
                // How and when the decision in force was given, and by whom.
                if let Some(d) = decisions.iter().find(|d| d.scope == s.to_string() && d.given) {
                    let mut said = vec![local_time(d.recorded_at)];
                    said.extend(d.given_how.as_ref().map(|h| t.get(&format!("consent-how-{h}"))));
                    said.extend(d.recorded_by.clone());
                    label = format!("{label} ({})", said.join(", "));
                }
                (s.to_string(), label)
            })
            .collect(),
        consent_modes: consent_modes(t),
        charts,
        encounters,
        referrals: referrals
            .iter()
            .map(|r| {
                (
                    local_time(r.created_at),
                    format!("{} · {}", r.service_name, r.organisation_name),
                    t.get(&format!("referral_status-{}", r.status)),
                    r.due_date.clone(),
                    r.id,
                )
            })
            .collect(),
        follow_ups: follow_ups
            .iter()
            .map(|f| {
                let source = match f.source.as_str() {
                    "self_harm" => super::clinical::flag_label(t, "self_harm"),
                    hamroh_domain::model::MANUAL => t.get("follow-up-manual"),
                    _ => String::new(),
                };
                let mut text = format!(
                    "{} · {} · {}",
                    f.due_date,
                    t.get(&format!("follow_up-{}", f.kind)),
                    t.get(&format!("follow_up_status-{}", f.status))
                );
                for extra in [Some(source), f.outcome.clone()].into_iter().flatten().filter(|x| !x.is_empty()) {
                    text = format!("{text} · {extra}");
                }
                (f.id, text, f.status == hamroh_domain::referral::FollowUpStatus::Open)
            })
            .collect(),
        can_audit: caller.principal.has_any_role(&[Role::Coordinator, Role::Admin]),
        emergency: (!waiting.is_empty()).then(|| super::EmergencyView::new(state, t, person.district)),
        waiting,
        kinds: hamroh_domain::referral::FollowUpKind::ALL
            .iter()
            .map(|k| (k.as_str(), t.get(&format!("follow_up-{k}"))))
            .collect(),
        person,
    };
    Ok(page(viewer, StatusCode::OK, &template))
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    person_page(&state, &viewer, &caller, id).await.unwrap_or_else(|e| error_page(&viewer, e))
}

pub async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
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

/// Adds a follow-up set by hand (`source`: manual).
pub async fn add_follow_up(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
    if let Err(e) = caller.gate(&state).may_write(id).await {
        return error_page(&viewer, e.into());
    }
    let pairs = form_pairs(&body);
    let f = super::form::FormState::from_pairs(&pairs);
    let parsed = (|| {
        let kind =
            f.val("kind").parse().map_err(|_| WebError::BadRequest { code: "invalid_kind", message: String::new() })?;
        let due_date: jiff::civil::Date = f
            .val("due_date")
            .parse()
            .map_err(|_| WebError::BadRequest { code: "invalid_due_date", message: String::new() })?;
        Ok::<_, WebError>((kind, due_date))
    })();
    let (kind, due_date) = match parsed {
        Ok(x) => x,
        Err(e) => return error_page(&viewer, e),
    };
    let follow_up = hamroh_domain::model::FollowUp {
        id: Uuid::now_v7(),
        person_id: id,
        organisation_id: caller.principal.organisation_id,
        referral_id: None,
        kind,
        due_date,
        status: hamroh_domain::referral::FollowUpStatus::Open,
        note: Some(f.val("note").trim().to_owned()).filter(|n| !n.is_empty()),
        created_at: hamroh_store::now_millis(),
        created_by: Some(caller.principal.user_id),
        done_at: None,
        source: hamroh_domain::model::MANUAL.into(),
        encounter_id: None,
        outcome: None,
    };
    match caller.gate(&state).add_follow_up(&follow_up).await {
        Ok(()) => Redirect::to(&format!("/persons/{id}#follow-ups")).into_response(),
        Err(e) => error_page(&viewer, e.into()),
    }
}

/// Completes (with an outcome), cancels (with a reason) or reschedules a follow-up.
pub async fn change_follow_up(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
    if let Err(e) = caller.gate(&state).writable_follow_up(id).await {
        return error_page(&viewer, e.into());
    }
    let pairs = form_pairs(&body);
    let f = super::form::FormState::from_pairs(&pairs);
    let text = |k: &str| Some(f.val(k).to_owned()).filter(|v| !v.trim().is_empty());
    let change =
        match crate::api::follow_up_change(f.val("action"), text("outcome"), text("reason"), Some(f.val("due_date"))) {
            Ok(c) => c,
            Err(e) => return error_page(&viewer, e),
        };
    match caller.gate(&state).change_follow_up(id, &change).await {
        Ok(changed) => Redirect::to(&format!("/persons/{}#follow-ups", changed.person_id)).into_response(),
        Err(e) => error_page(&viewer, e.into()),
    }
}

pub async fn consent(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
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
    let how = get("how").and_then(|h| h.parse::<hamroh_domain::consent::ConsentMode>().ok());
    match caller.gate(&state).record_consent(id, scope, given, how).await {
        // After a withdrawal the record may no longer be visible to this organisation.
        Ok(_) => {
            let next = if given { format!("/persons/{id}") } else { "/".to_owned() };
            Redirect::to(&next).into_response()
        }
        Err(e) => error_page(&viewer, e.into()),
    }
}
