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
            "answers",
            t.get("worklist-answers"),
            store.sent_updates(org, hamroh_store::now_millis() - 7 * 86_400_000, rows("answers")).await?,
            referral_row,
        ),
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
        // One row that says how many: the heading counts the follow-ups, not the row.
        let mut section = Section::whole(
            "late-follow-ups",
            t.with("worklist-late-follow-ups", &[("days", days)]),
            vec![(String::new(), t.with("worklist-count", &[("count", shown_count(&late))]), String::new())],
        );
        section.count = shown_count(&late);
        sections.push(section);
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
