//! Referrals in the browser: refer a person to a service (consent and district checked), follow
//! the referral's states from either side, print a slip for an organisation not yet on Hamroh,
//! the worklist, and the public directory of services.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::consent::ConsentScope;
use hamroh_domain::geo;
use hamroh_domain::org::{Role, Sector};
use hamroh_domain::referral::{Barrier, ReferralStatus, Side, Transition, Urgency, allowed_from};
use hamroh_store::{Listing, ReferralDetail, ReferralItem, ReferralRequest, ServiceEntry, WORKLIST_ROWS};
use serde::Deserialize;
use uuid::Uuid;

use super::account::form_pairs;
use super::form::FormState;
use super::persons::local_time;
use super::{Chrome, error_page, page};
use crate::AppState;
use crate::auth::Caller;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::Viewer;
use crate::workflow;

pub struct ServiceChoice {
    pub id: Uuid,
    pub name: String,
    pub organisation: String,
    pub sector: String,
    pub available: bool,
    pub selected: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "refer.html")]
struct ReferPage {
    c: Chrome,
    person_id: Uuid,
    code: String,
    error: Option<String>,
    services: Vec<ServiceChoice>,
    reason: String,
    urgencies: Vec<(&'static str, String)>,
}

fn urgency_label(t: &Tr, u: Urgency) -> String {
    t.get(&format!("urgency-{u}"))
}

async fn refer_page(
    state: &AppState,
    viewer: &Viewer,
    caller: &Caller,
    id: Uuid,
    status: StatusCode,
    error: Option<String>,
    f: &FormState,
) -> Result<Response, WebError> {
    let gate = caller.gate(state);
    let (person, consents) = gate.person_with_consents(id).await?;
    let t = &viewer.tr;
    let services = state
        .store
        .services()
        .await?
        .into_iter()
        .filter(|s| s.organisation_id != caller.principal.organisation_id)
        .map(|s| {
            let covers = s.districts.iter().any(|d| d == person.district.as_str());
            let consented = consents.contains(&ConsentScope::Sector(s.sector))
                || consents.contains(&ConsentScope::Organisation(s.organisation_id));
            let note = if !covers {
                t.get("refer-not-in-district")
            } else if !consented {
                t.with("refer-consent-missing", &[("sector", t.get(&format!("sector-{}", s.sector)))])
            } else if !s.uses_hamroh {
                t.get("refer-paper")
            } else {
                String::new()
            };
            ServiceChoice {
                selected: f.is("service", &s.id.to_string()),
                id: s.id,
                name: s.name,
                organisation: s.organisation,
                sector: t.get(&format!("sector-{}", s.sector)),
                available: covers && consented,
                note,
            }
        })
        .collect();
    let template = ReferPage {
        c: Chrome::new(viewer),
        person_id: id,
        code: person.code,
        error,
        services,
        reason: f.val("reason").to_owned(),
        urgencies: Urgency::ALL.iter().map(|u| (u.as_str(), urgency_label(t, *u))).collect(),
    };
    Ok(page(viewer, status, &template))
}

pub async fn refer_form(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    refer_page(&state, &viewer, &caller, id, StatusCode::OK, None, &FormState::default())
        .await
        .unwrap_or_else(|e| error_page(&viewer, e))
}

pub async fn refer(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
    let f = FormState::from_pairs(&form_pairs(&body));
    let t = &viewer.tr;
    let service = Uuid::parse_str(f.val("service")).ok();
    let urgency = f.val("urgency").parse::<Urgency>().ok();
    let reason = f.val("reason").trim().to_owned();
    let (Some(service_id), Some(urgency), false) = (service, urgency, reason.is_empty()) else {
        let message = t.get("refer-incomplete");
        return refer_page(&state, &viewer, &caller, id, StatusCode::UNPROCESSABLE_ENTITY, Some(message), &f)
            .await
            .unwrap_or_else(|e| error_page(&viewer, e));
    };
    let note = Some(f.val("note").trim().to_owned()).filter(|n| !n.is_empty());
    let request = ReferralRequest {
        person_id: id,
        service_id,
        reason,
        urgency,
        screening_id: None,
        note,
        today: workflow::today(),
    };
    match caller.gate(&state).refer(&request, state.notifier.as_ref()).await {
        Ok(r) => Redirect::to(&format!("/referrals/{}", r.id)).into_response(),
        Err(hamroh_store::StoreError::Refused { code, .. }) => {
            let message = t.get(code);
            refer_page(&state, &viewer, &caller, id, StatusCode::UNPROCESSABLE_ENTITY, Some(message), &f)
                .await
                .unwrap_or_else(|e| error_page(&viewer, e))
        }
        Err(e) => error_page(&viewer, e.into()),
    }
}

#[derive(Template)]
#[template(path = "referral.html")]
struct ReferralPage {
    c: Chrome,
    r: ReferralDetail,
    error: Option<String>,
    sender: bool,
    urgency: String,
    status: String,
    /// (step, label, needs reason, needs barrier, needs outcome)
    steps: Vec<(&'static str, String, bool, bool, bool)>,
    barriers: Vec<(&'static str, String)>,
    history: Vec<String>,
}

#[derive(Template)]
#[template(path = "slip.html")]
struct SlipPage {
    c: Chrome,
    r: ReferralDetail,
    urgency: String,
}

fn status_label(t: &Tr, s: ReferralStatus) -> String {
    t.get(&format!("referral_status-{s}"))
}

/// The steps this side may take now, as forms.
fn steps_for(t: &Tr, r: &ReferralDetail, side: Side) -> Vec<(&'static str, String, bool, bool, bool)> {
    allowed_from(r.status)
        .iter()
        .filter_map(|step| {
            let sample = sample_step(step);
            hamroh_domain::referral::apply(r.status, &sample, side, r.receiver_uses_hamroh).ok()?;
            let needs_barrier = sample.barrier().is_some();
            let needs_outcome = matches!(sample, Transition::Close { .. });
            let needs_reason = sample.reason().is_some() && !needs_outcome;
            Some((*step, t.get(&format!("step-{step}")), needs_reason, needs_barrier, needs_outcome))
        })
        .collect()
}

fn sample_step(step: &str) -> Transition {
    let reason = || "x".to_owned();
    match step {
        "accept" => Transition::Accept,
        "decline" => Transition::Decline { reason: reason(), barrier: Barrier::Other },
        "redirect" => Transition::Redirect { reason: reason() },
        "attend" => Transition::Attend,
        "no_show" => Transition::NoShow { reason: reason(), barrier: Barrier::Other },
        "cancel" => Transition::Cancel { reason: reason(), barrier: Barrier::Other },
        "close" => Transition::Close { outcome: reason() },
        _ => Transition::Rebook,
    }
}

/// Reads a step from a form or an API body.
pub fn parse_step(step: &str, reason: &str, barrier: &str, outcome: &str) -> Result<Transition, WebError> {
    let invalid = |m: &str| WebError::Invalid { code: "invalid_step", message: m.to_owned() };
    let barrier = || {
        barrier.parse::<Barrier>().map_err(|_| {
            invalid(
                "give a barrier: cost, distance, stigma, documents, language, waiting_time, disability_access or other",
            )
        })
    };
    let reason = reason.trim().to_owned();
    Ok(match step {
        "accept" => Transition::Accept,
        "decline" => Transition::Decline { reason, barrier: barrier()? },
        "redirect" => Transition::Redirect { reason },
        "attend" => Transition::Attend,
        "no_show" => Transition::NoShow { reason, barrier: barrier()? },
        "cancel" => Transition::Cancel { reason, barrier: barrier()? },
        "close" => Transition::Close { outcome: outcome.trim().to_owned() },
        "rebook" => Transition::Rebook,
        other => return Err(invalid(&format!("unknown step `{other}`"))),
    })
}

fn referral_page(
    viewer: &Viewer,
    caller: &Caller,
    r: ReferralDetail,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let t = &viewer.tr;
    let side = if r.to_organisation_id == caller.principal.organisation_id { Side::Receiver } else { Side::Sender };
    let history = r
        .history
        .iter()
        .map(|h| {
            let mut line = format!("{} · {}", local_time(h.at), status_label(t, h.to_status));
            if let Some(by) = &h.by_user {
                line.push_str(&format!(" · {by}"));
            }
            if let Some(b) = h.barrier {
                line.push_str(&format!(" · {}", t.get(&format!("barrier-{b}"))));
            }
            if let Some(reason) = &h.reason {
                line.push_str(&format!(" · {reason}"));
            }
            line
        })
        .collect();
    let template = ReferralPage {
        c: Chrome::new(viewer),
        sender: side == Side::Sender,
        urgency: urgency_label(t, r.urgency),
        status: status_label(t, r.status),
        steps: steps_for(t, &r, side),
        barriers: Barrier::ALL.iter().map(|b| (b.as_str(), t.get(&format!("barrier-{b}")))).collect(),
        history,
        error,
        r,
    };
    page(viewer, status, &template)
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    match caller.gate(&state).referral(id).await {
        Ok(r) => referral_page(&viewer, &caller, r, StatusCode::OK, None),
        Err(e) => error_page(&viewer, e.into()),
    }
}

pub async fn slip(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    match caller.gate(&state).referral(id).await {
        Ok(r) => page(
            &viewer,
            StatusCode::OK,
            &SlipPage { c: Chrome::new(&viewer), urgency: urgency_label(&viewer.tr, r.urgency), r },
        ),
        Err(e) => error_page(&viewer, e.into()),
    }
}

pub async fn step(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
    let f = FormState::from_pairs(&form_pairs(&body));
    let gate = caller.gate(&state);
    let result = match parse_step(f.val("step"), f.val("reason"), f.val("barrier"), f.val("outcome")) {
        Ok(step) => gate.transition(id, &step, state.notifier.as_ref()).await.map_err(WebError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/referrals/{id}")).into_response(),
        Err(e @ (WebError::Invalid { .. } | WebError::Conflict { .. })) => match gate.referral(id).await {
            Ok(r) => referral_page(&viewer, &caller, r, e.status(), Some(e.to_string())),
            Err(e) => error_page(&viewer, e.into()),
        },
        Err(e) => error_page(&viewer, e),
    }
}

pub struct Section {
    pub id: &'static str,
    pub title: String,
    /// (link, text, detail)
    pub rows: Vec<(String, String, String)>,
    /// How many rows the section holds: `500+` for one that holds as many as the store counts.
    pub count: String,
    /// The label of the link to the whole section, when rows were left off.
    pub more: Option<String>,
}

impl Section {
    /// A section of listed rows, with the link to all of them when some were left off.
    fn listed<T>(
        t: &Tr,
        id: &'static str,
        title: String,
        listing: Listing<T>,
        row: impl Fn(T) -> (String, String, String),
    ) -> Self {
        let count = shown_count(&listing);
        let more =
            (listing.count > listing.rows.len()).then(|| t.with("worklist-show-all", &[("count", count.clone())]));
        Self { id, title, rows: listing.rows.into_iter().map(row).collect(), count, more }
    }

    /// A section of rows that are all shown.
    fn whole(id: &'static str, title: String, rows: Vec<(String, String, String)>) -> Self {
        Self { id, title, count: rows.len().to_string(), rows, more: None }
    }
}

/// A listing's count as shown: `500+` when the section may hold more than the store counts.
pub fn shown_count<T>(listing: &Listing<T>) -> String {
    if listing.capped() { format!("{}+", listing.count) } else { listing.count.to_string() }
}

/// Rows a worklist section shows until asked for all: the most urgent come first, and a page of
/// hundreds of rows helps nobody (it also cost as much as every other request together).
const SHOWN: usize = 50;

#[derive(Deserialize)]
pub struct WorklistQuery {
    /// The section to show whole.
    all: Option<String>,
}

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorklistPage {
    c: Chrome,
    sections: Vec<Section>,
    /// The national emergency numbers, under the red flags while any wait.
    emergency: Option<super::EmergencyView>,
}

pub async fn worklist(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    Query(q): Query<WorklistQuery>,
) -> Response {
    build_worklist(&state, &viewer, &caller, q.all.as_deref()).await.unwrap_or_else(|e| error_page(&viewer, e))
}

async fn build_worklist(
    state: &AppState,
    viewer: &Viewer,
    caller: &Caller,
    all: Option<&str>,
) -> Result<Response, WebError> {
    let t = &viewer.tr;
    let org = caller.principal.organisation_id;
    let today = workflow::today();
    // The rows read for a section: the first SHOWN, or as many as the store lists when asked for all.
    let rows = |id: &str| if all == Some(id) { WORKLIST_ROWS } else { SHOWN };
    let referral_row = |r: ReferralItem| {
        (
            format!("/referrals/{}", r.id),
            format!("{} · {}", r.code, r.person_code),
            format!(
                "{} → {} · {} · {} {}",
                r.from_organisation,
                r.service,
                status_label(t, r.status),
                t.get("referral-due"),
                r.due_date
            ),
        )
    };
    let store = &state.store;
    let lost_cutoff = hamroh_store::now_millis() - state.safety_net.lost_after_days * 86_400_000;
    // Red flags open the worklist: one row per person, named for the organisation's own persons.
    let flags = store.urgent_items(org, rows("red-flags")).await?;
    let emergency = (!flags.rows.is_empty()).then(|| super::EmergencyView::national(state, t));
    let ids: Vec<Uuid> = flags.rows.iter().map(|u| u.person_id).collect();
    let names = caller.gate(state).own_names(&ids).await?;
    let flag_row = |names: &std::collections::HashMap<Uuid, String>| {
        let names = names.clone();
        move |u: hamroh_store::UrgentItem| {
            // Another organisation's encounter is not the coordinator's to open: its row names the
            // organisation to call instead.
            let ours = u.organisation_id == org;
            let who = match names.get(&u.person_id) {
                Some(name) => format!("{} · {name}", u.person_code),
                None => u.person_code.clone(),
            };
            let mut detail: Vec<String> = u.flags.split(',').map(|f| super::clinical::flag_label(t, f)).collect();
            detail.push(format!("{} {}", t.get("worklist-waiting-since"), local_time(u.at)));
            if u.contact_today {
                detail.push(t.get("safety-contact-today"));
            }
            if u.escalated {
                detail.push(t.get("worklist-flag-escalated"));
            }
            if !ours {
                detail.push(u.organisation.clone());
            }
            let link = if ours { format!("/encounters/{}#safety", u.encounter_id) } else { String::new() };
            (link, who, detail.join(" · "))
        }
    };
    let mut sections = vec![
        Section::listed(t, "red-flags", t.get("urgent-title"), flags, flag_row(&names)),
        Section::listed(
            t,
            "self-harm-not-asked",
            t.get("worklist-self-harm-not-asked"),
            store.self_harm_not_asked(org, rows("self-harm-not-asked")).await?,
            |(_, code, encounter, at)| {
                (
                    format!("/encounters/{encounter}"),
                    code,
                    format!("{} {}", t.get("worklist-not-asked-since"), local_time(at)),
                )
            },
        ),
        Section::listed(t, "inbox", t.get("worklist-inbox"), store.inbox(org, rows("inbox")).await?, referral_row),
        Section::listed(
            t,
            "overdue",
            t.get("worklist-overdue"),
            store.overdue_referrals(Some(org), &today.to_string(), rows("overdue")).await?,
            referral_row,
        ),
        Section::listed(
            t,
            "follow-ups",
            t.get("worklist-follow-ups"),
            store
                .follow_ups_due(Some(org), &(today + jiff::Span::new().days(7)).to_string(), rows("follow-ups"))
                .await?,
            |(_, person, code, kind, due)| {
                (format!("/persons/{person}"), code, format!("{} · {due}", t.get(&format!("follow_up-{kind}"))))
            },
        ),
        Section::listed(
            t,
            "lost-here",
            t.with("worklist-lost-here", &[("days", state.safety_net.lost_after_days.to_string())]),
            store.lost_to_follow_up(Some(org), lost_cutoff, rows("lost-here")).await?,
            |l| {
                let since = format!("{} {}", t.get("worklist-waiting-since"), local_time(l.since));
                (format!("/persons/{}", l.person_id), l.person_code, since)
            },
        ),
    ];
    if caller.principal.has_role(Role::Coordinator) {
        let days = state.safety_net.escalation_grace_days.to_string();
        let grace = (today - jiff::Span::new().days(state.safety_net.escalation_grace_days)).to_string();
        // Red flags of every organisation not assessed in time: codes only, never names.
        sections.insert(
            1,
            Section::listed(
                t,
                "escalated-red-flags",
                t.with(
                    "worklist-escalated-red-flags",
                    &[("hours", state.safety_net.red_flag_escalation_hours.to_string())],
                ),
                store.escalated_items(None, rows("escalated-red-flags")).await?,
                flag_row(&std::collections::HashMap::new()),
            ),
        );
        // Coordinators chase organisations, not persons: referral codes and organisations only.
        sections.push(Section::listed(
            t,
            "escalated",
            t.with("worklist-escalated", &[("days", days.clone())]),
            store.overdue_referrals(None, &grace, rows("escalated")).await?,
            |r| {
                (
                    String::new(),
                    r.code,
                    format!("{} → {} · {} {}", r.from_organisation, r.service, t.get("referral-due"), r.due_date),
                )
            },
        ));
        let late = store.follow_ups_due(None, &grace, 0).await?;
        sections.push(Section::whole(
            "late-follow-ups",
            t.with("worklist-late-follow-ups", &[("days", days)]),
            vec![(String::new(), t.with("worklist-count", &[("count", shown_count(&late))]), String::new())],
        ));
        let month_ago = hamroh_store::now_millis() - 30 * 86_400_000;
        let barriers = store
            .recent_barriers(month_ago)
            .await?
            .into_iter()
            .map(|(code, from, to, status, barrier)| {
                let barrier = barrier.map(|b| t.get(&format!("barrier-{b}"))).unwrap_or_default();
                (
                    String::new(),
                    code,
                    format!("{from} → {to} · {} · {barrier}", t.get(&format!("referral_status-{status}"))),
                )
            })
            .collect();
        sections.push(Section::whole("barriers", t.get("worklist-barriers"), barriers));
        // One row per registering organisation; the section counts persons.
        let lost = store.lost_by_organisation(lost_cutoff).await?;
        let persons: i64 = lost.iter().map(|l| l.count).sum();
        let mut section = Section::whole(
            "lost",
            t.with("worklist-lost", &[("days", state.safety_net.lost_after_days.to_string())]),
            lost.into_iter().map(|l| (String::new(), l.organisation, l.count.to_string())).collect(),
        );
        section.count = persons.to_string();
        sections.push(section);
    }
    Ok(page(viewer, StatusCode::OK, &WorklistPage { c: Chrome::new(viewer), sections, emergency }))
}

pub async fn complete_follow_up(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    match caller.gate(&state).complete_follow_up(id).await {
        Ok(()) => Redirect::to("/worklist").into_response(),
        Err(e) => error_page(&viewer, e.into()),
    }
}

pub struct DirectoryEntry {
    pub name: String,
    pub organisation: String,
    pub sector: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    c: Chrome,
    regions: Vec<(String, Vec<(&'static str, String)>)>,
    sectors: Vec<(&'static str, String)>,
    district: String,
    sector: String,
    searched: bool,
    found: String,
    services: Vec<DirectoryEntry>,
}

#[derive(Deserialize)]
pub struct DirectoryQuery {
    #[serde(default)]
    district: String,
    #[serde(default)]
    sector: String,
}

/// Services that cover a district (and serve a need), for anyone: no log-in, no personal data.
pub fn matching_services(all: Vec<ServiceEntry>, district: &str, sector: Option<Sector>) -> Vec<ServiceEntry> {
    all.into_iter()
        .filter(|s| {
            (district.is_empty() || s.districts.iter().any(|d| d == district)) && sector.is_none_or(|x| s.sector == x)
        })
        .collect()
}

pub async fn directory(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<DirectoryQuery>,
) -> Result<Response, WebError> {
    let t = &viewer.tr;
    let lang = t.lang;
    let sector = q.sector.parse::<Sector>().ok();
    let searched = !q.district.is_empty() || sector.is_some();
    let services =
        if searched { matching_services(state.store.services().await?, &q.district, sector) } else { Vec::new() };
    let template = DirectoryPage {
        c: Chrome::new(&viewer),
        regions: geo::REGIONS
            .iter()
            .map(|r| {
                let districts =
                    geo::districts_of(r.code).map(|d| (d.code, lang.pick(d.en, d.ru, d.tg).to_owned())).collect();
                (lang.pick(r.en, r.ru, r.tg).to_owned(), districts)
            })
            .collect(),
        sectors: Sector::ALL
            .iter()
            .filter(|s| **s != Sector::PrimaryCare && **s != Sector::Government)
            .map(|s| (s.as_str(), t.get(&format!("sector-{s}"))))
            .collect(),
        district: q.district.clone(),
        sector: q.sector.clone(),
        searched,
        found: t.with("search-found", &[("count", services.len().to_string())]),
        services: services
            .into_iter()
            .map(|s| {
                let mut details = vec![
                    t.get(&format!("cost-{}", s.cost)),
                    format!(
                        "{}: {}",
                        t.get("directory-languages"),
                        s.languages
                            .iter()
                            .map(|l| t.get(&format!("service-language-{l}")))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ];
                if s.accessible {
                    details.push(t.get("directory-accessible"));
                }
                if let Some(c) = &s.contact {
                    details.push(c.clone());
                }
                if let Some(h) = &s.opening_hours {
                    details.push(h.clone());
                }
                DirectoryEntry {
                    name: s.name,
                    organisation: s.organisation,
                    sector: t.get(&format!("sector-{}", s.sector)),
                    details: details.join(" · "),
                }
            })
            .collect(),
    };
    Ok(page(&viewer, StatusCode::OK, &template))
}
