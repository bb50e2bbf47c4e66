//! The worklist: what waits for the organisation, the most urgent first (red flags, self-harm not
//! asked, referrals to answer, overdue referrals, follow-ups due, people lost to follow-up), and
//! for coordinators what was escalated across organisations.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::org::Role;
use hamroh_store::{Listing, ReferralItem, WORKLIST_ROWS};
use serde::Deserialize;
use uuid::Uuid;

use super::persons::local_time;
use super::referrals::status_label;
use super::{Chrome, error_page, page};
use crate::AppState;
use crate::auth::Caller;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::Viewer;
use crate::workflow;

pub struct Section {
    pub id: &'static str,
    pub title: String,
    /// (link, text, detail)
    pub rows: Vec<(String, String, String)>,
    /// What the heading counts, with the count: "12 referrals"; `500+` for a section that holds
    /// as many as the store counts.
    pub count: String,
    /// The label of the link to the whole section, when rows were left off.
    pub more: Option<String>,
}

impl Section {
    /// A section of listed rows, each a `unit` of the count (see [`Unit`]), with the link to all
    /// of them when some were left off.
    fn listed<T>(
        t: &Tr,
        id: &'static str,
        (title, unit): (String, Unit),
        listing: Listing<T>,
        row: impl Fn(T) -> (String, String, String),
    ) -> Self {
        let count = shown_count(&listing);
        let more =
            (listing.count > listing.rows.len()).then(|| t.with("worklist-show-all", &[("count", count.clone())]));
        let count = unit.count(t, listing.count, listing.capped());
        Self { id, title, rows: listing.rows.into_iter().map(row).collect(), count, more }
    }

    /// A section of rows that are all shown.
    fn whole(t: &Tr, id: &'static str, (title, unit): (String, Unit), rows: Vec<(String, String, String)>) -> Self {
        Self { id, title, count: unit.count(t, rows.len(), false), rows, more: None }
    }
}

/// What a section's count counts, named in its heading: a section of organisations can count the
/// persons they hold.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Persons,
    Encounters,
    Referrals,
    FollowUps,
    Barriers,
}

impl Unit {
    fn count(self, t: &Tr, n: usize, capped: bool) -> String {
        let key = match self {
            Unit::Persons => "worklist-unit-persons",
            Unit::Encounters => "worklist-unit-encounters",
            Unit::Referrals => "worklist-unit-referrals",
            Unit::FollowUps => "worklist-unit-follow-ups",
            Unit::Barriers => "worklist-unit-barriers",
        };
        t.count(key, n, capped)
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
    /// For coordinators: the organisation whose persons lost to follow-up to list.
    organisation: Option<Uuid>,
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
    build_worklist(&state, &viewer, &caller, &q).await.unwrap_or_else(|e| error_page(&viewer, e))
}

async fn build_worklist(
    state: &AppState,
    viewer: &Viewer,
    caller: &Caller,
    q: &WorklistQuery,
) -> Result<Response, WebError> {
    let all = q.all.as_deref();
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
        Section::listed(t, "red-flags", (t.get("urgent-title"), Unit::Persons), flags, flag_row(&names)),
        Section::listed(
            t,
            "self-harm-not-asked",
            (t.get("worklist-self-harm-not-asked"), Unit::Encounters),
            store.self_harm_not_asked(org, rows("self-harm-not-asked")).await?,
            |(_, code, encounter, at)| {
                (
                    format!("/encounters/{encounter}"),
                    code,
                    format!("{} {}", t.get("worklist-not-asked-since"), local_time(at)),
                )
            },
        ),
        Section::listed(
            t,
            "inbox",
            (t.get("worklist-inbox"), Unit::Referrals),
            store.inbox(org, rows("inbox")).await?,
            referral_row,
        ),
        Section::listed(
            t,
            "answers",
            (t.get("worklist-answers"), Unit::Referrals),
            store.sent_updates(org, hamroh_store::now_millis() - 7 * 86_400_000, rows("answers")).await?,
            referral_row,
        ),
        Section::listed(
            t,
            "overdue",
            (t.get("worklist-overdue"), Unit::Referrals),
            store.overdue_referrals(Some(org), &today.to_string(), rows("overdue")).await?,
            referral_row,
        ),
        Section::listed(
            t,
            "follow-ups",
            (t.get("worklist-follow-ups"), Unit::FollowUps),
            store
                .follow_ups_due(Some(org), &(today + jiff::Span::new().days(7)).to_string(), rows("follow-ups"))
                .await?,
            |f| {
                let what = format!("{} · {}", t.get(&format!("follow_up-{}", f.kind)), f.due_date);
                (format!("/persons/{}", f.person_id), f.person_code, what)
            },
        ),
        Section::listed(
            t,
            "lost-here",
            (t.with("worklist-lost-here", &[("days", state.safety_net.lost_after_days.to_string())]), Unit::Persons),
            store.lost_to_follow_up(Some(org), lost_cutoff, rows("lost-here")).await?,
            |l| {
                let since = format!("{} {}", t.get("worklist-waiting-since"), local_time(l.since));
                (format!("/persons/{}", l.person_id), l.person_code, since)
            },
        ),
    ];
    // Offline registrations that may be someone registered wait after the red flags.
    let held = super::held::worklist_rows(state, caller, t).await?;
    if !held.is_empty() {
        sections.insert(1, Section::whole(t, "held-registrations", (t.get("worklist-held"), Unit::Persons), held));
    }
    if caller.principal.has_role(Role::Coordinator) {
        let days = state.safety_net.escalation_grace_days.to_string();
        let grace = (today - jiff::Span::new().days(state.safety_net.escalation_grace_days)).to_string();
        // Red flags of every organisation not assessed in time: codes only, never names.
        sections.insert(
            1,
            Section::listed(
                t,
                "escalated-red-flags",
                (
                    t.with(
                        "worklist-escalated-red-flags",
                        &[("hours", state.safety_net.red_flag_escalation_hours.to_string())],
                    ),
                    Unit::Persons,
                ),
                store.escalated_items(None, rows("escalated-red-flags")).await?,
                flag_row(&std::collections::HashMap::new()),
            ),
        );
        // Coordinators chase organisations, not persons: codes and organisations only; each row
        // opens what is behind it, as far as a coordinator may see it.
        sections.push(Section::listed(
            t,
            "escalated",
            (t.with("worklist-escalated", &[("days", days.clone())]), Unit::Referrals),
            store.overdue_referrals(None, &grace, rows("escalated")).await?,
            |r| {
                (
                    format!("/worklist/referrals/{}", r.id),
                    r.code,
                    format!("{} → {} · {} {}", r.from_organisation, r.service, t.get("referral-due"), r.due_date),
                )
            },
        ));
        sections.push(Section::listed(
            t,
            "late-follow-ups",
            (t.with("worklist-late-follow-ups", &[("days", days)]), Unit::FollowUps),
            store.follow_ups_due(None, &grace, rows("late-follow-ups")).await?,
            |f| {
                // Another organisation's person is not the coordinator's to open: the row names
                // the organisation to call.
                let link = if f.organisation_id == org { format!("/persons/{}", f.person_id) } else { String::new() };
                let what = format!("{} · {} · {}", t.get(&format!("follow_up-{}", f.kind)), f.due_date, f.organisation);
                (link, f.person_code, what)
            },
        ));
        let month_ago = hamroh_store::now_millis() - 30 * 86_400_000;
        let barriers = store
            .recent_barriers(month_ago)
            .await?
            .into_iter()
            .map(|(id, code, from, to, status, barrier)| {
                let barrier = barrier.map(|b| t.get(&format!("barrier-{b}"))).unwrap_or_default();
                (
                    format!("/worklist/referrals/{id}"),
                    code,
                    format!("{from} → {to} · {} · {barrier}", t.get(&format!("referral_status-{status}"))),
                )
            })
            .collect();
        sections.push(Section::whole(t, "barriers", (t.get("worklist-barriers"), Unit::Barriers), barriers));
        sections.push(lost_section(state, t, org, q.organisation, lost_cutoff).await?);
    }
    Ok(page(viewer, StatusCode::OK, &WorklistPage { c: Chrome::new(viewer), sections, emergency }))
}

/// Persons lost to follow-up across organisations: one row per registering organisation, which
/// opens that organisation's persons (codes; the person page only for the coordinator's own).
/// The heading counts persons either way.
async fn lost_section(
    state: &AppState,
    t: &Tr,
    own: Uuid,
    chosen: Option<Uuid>,
    lost_cutoff: i64,
) -> Result<Section, WebError> {
    let lost = state.store.lost_by_organisation(lost_cutoff).await?;
    let days = state.safety_net.lost_after_days.to_string();
    if let Some(chosen) = chosen {
        let name =
            lost.iter().find(|l| l.organisation_id == chosen).map(|l| l.organisation.clone()).unwrap_or_default();
        let title = t.with("worklist-lost-at", &[("days", days), ("organisation", name)]);
        let listing = state.store.lost_to_follow_up(Some(chosen), lost_cutoff, WORKLIST_ROWS).await?;
        let mut section = Section::listed(t, "lost", (title, Unit::Persons), listing, |l| {
            let link = if chosen == own { format!("/persons/{}", l.person_id) } else { String::new() };
            (link, l.person_code, format!("{} {}", t.get("worklist-waiting-since"), local_time(l.since)))
        });
        section.rows.push(("/worklist#lost".to_owned(), t.get("worklist-lost-every-organisation"), String::new()));
        return Ok(section);
    }
    let persons: i64 = lost.iter().map(|l| l.count).sum();
    let rows = lost
        .into_iter()
        .map(|l| {
            let link = format!("/worklist?all=lost&organisation={}#lost", l.organisation_id);
            (link, l.organisation, t.count("worklist-unit-persons", usize::try_from(l.count).unwrap_or(0), false))
        })
        .collect();
    let mut section = Section::whole(t, "lost", (t.with("worklist-lost", &[("days", days)]), Unit::Persons), rows);
    section.count = t.count("worklist-unit-persons", usize::try_from(persons).unwrap_or(0), false);
    Ok(section)
}

#[derive(Template)]
#[template(path = "referral_summary.html")]
struct SummaryPage {
    c: Chrome,
    code: String,
    person_code: String,
    from: String,
    to: String,
    contact: String,
    hours: String,
    status: String,
    urgency: String,
    sent: String,
    due: String,
    steps: Vec<String>,
}

/// An escalated referral as a coordinator sees it: who to call about it, how it stands and its
/// steps; no clinical content and no names.
pub async fn referral_summary(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    let mut r = match caller.gate(&state).referral_summary(id).await {
        Ok(r) => r,
        Err(e) => return error_page(&viewer, e.into()),
    };
    let t = &viewer.tr;
    crate::words::localise(t, &mut r);
    let steps = r
        .history
        .iter()
        .map(|h| {
            let barrier = h.barrier.map(|b| format!(" · {}", t.get(&format!("barrier-{b}")))).unwrap_or_default();
            format!("{} · {}{barrier}", local_time(h.at), status_label(t, h.to_status))
        })
        .collect();
    let template = SummaryPage {
        c: Chrome::new(&viewer),
        code: r.code,
        person_code: r.person_code,
        from: r.from_organisation,
        to: format!("{} · {}", r.service, r.to_organisation),
        contact: r.service_contact.unwrap_or_default(),
        hours: r.service_hours.unwrap_or_default(),
        status: status_label(t, r.status),
        urgency: t.get(&format!("urgency-{}", r.urgency)),
        sent: local_time(r.created_at),
        due: r.due_date,
        steps,
    };
    page(&viewer, StatusCode::OK, &template)
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
