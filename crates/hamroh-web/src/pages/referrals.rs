//! Referrals in the browser: refer a person to a service (consent and district checked), follow
//! the referral's states from either side, and print a slip for an organisation not yet on
//! Hamroh.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::consent::ConsentScope;
use hamroh_domain::org::Lang;
use hamroh_domain::referral::{Barrier, ReferralStatus, Side, Transition, Urgency, allowed_from};
use hamroh_store::{ReferralDetail, ReferralRequest};
use uuid::Uuid;

use super::form::FormState;
use super::form::form_pairs;
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

pub(super) fn urgency_label(t: &Tr, u: Urgency) -> String {
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
                name: crate::words::name(t, &s.words),
                organisation: crate::words::name(t, &s.organisation_words),
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
    /// The results behind the referral: instrument, total, band, red flags.
    results: Vec<(String, String, String, String)>,
    /// Where the step forms post.
    step_action: String,
    /// The person's name and phone, for the receiving organisation while consent covers it.
    contact: Option<(Option<String>, Option<String>)>,
    /// The sender may give a service without Hamroh accounts a link to answer through.
    can_link: bool,
    /// The links issued so far, in words, and whether one still works.
    links: Vec<String>,
    link_working: bool,
}

#[derive(Template)]
#[template(path = "slip.html")]
pub(super) struct SlipPage {
    pub c: Chrome,
    pub r: ReferralDetail,
    pub urgency: String,
    /// A partner link just issued: its URL, as a QR code (SVG), and when it expires.
    pub link: Option<(String, String, String)>,
}

pub fn status_label(t: &Tr, s: ReferralStatus) -> String {
    t.get(&format!("referral_status-{s}"))
}

/// The steps this side may take now, as forms.
pub(super) fn steps_for(t: &Tr, r: &ReferralDetail, side: Side) -> Vec<(&'static str, String, bool, bool, bool)> {
    allowed_from(r.status)
        .iter()
        .filter_map(|step| {
            let sample = Transition::sample(step)?;
            hamroh_domain::referral::apply(r.status, &sample, side, r.receiver_uses_hamroh).ok()?;
            let needs_barrier = sample.barrier().is_some();
            let needs_outcome = matches!(sample, Transition::Close { .. });
            let needs_reason = sample.reason().is_some() && !needs_outcome;
            Some((*step, t.get(&format!("step-{step}")), needs_reason, needs_barrier, needs_outcome))
        })
        .collect()
}

fn referral_page(
    viewer: &Viewer,
    caller: &Caller,
    (mut r, links, contact): Shown,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let t = &viewer.tr;
    crate::words::localise(t, &mut r);
    let now = hamroh_store::now_millis();
    let link_working = links.iter().any(|l| l.revoked_at.is_none() && l.expires_at > now);
    let links = links
        .iter()
        .map(|l| {
            let state = match l.revoked_at {
                Some(at) => t.with("link-revoked-at", &[("at", local_time(at))]),
                None if l.expires_at <= now => t.with("link-expired-at", &[("at", local_time(l.expires_at))]),
                None => t.with("link-expires-at", &[("at", local_time(l.expires_at))]),
            };
            let used = l.last_used_at.map_or_else(
                || t.get("link-not-used"),
                |at| t.with("link-used", &[("count", l.uses.to_string()), ("at", local_time(at))]),
            );
            format!("{} · {state} · {used}", local_time(l.created_at))
        })
        .collect();
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
    let results = r
        .results
        .iter()
        .map(|x| {
            let name = hamroh_domain::instrument::catalog()
                .get(&x.instrument)
                .map_or(x.instrument.clone(), |i| i.short_name.clone());
            let flags = x.flags.split(',').filter(|f| !f.is_empty());
            (
                name,
                x.total.map_or(String::new(), |v| v.to_string()),
                x.band.as_deref().map(|b| super::clinical::band_name(t, &x.instrument, b)).unwrap_or_default(),
                flags.map(|f| super::clinical::flag_label(t, f)).collect::<Vec<_>>().join(", "),
            )
        })
        .collect();
    let template = ReferralPage {
        results,
        can_link: side == Side::Sender
            && !r.receiver_uses_hamroh
            && !hamroh_domain::referral::allowed_from(r.status).is_empty(),
        links,
        link_working,
        step_action: format!("/referrals/{}/step", r.id),
        contact,
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

/// A referral as its page shows it: the referral, the partner links issued for it (for its
/// sender) and the person's name and phone (for its receiver, while consent covers them).
type Shown = (ReferralDetail, Vec<hamroh_store::PartnerLinkLine>, Option<(Option<String>, Option<String>)>);

async fn with_links(state: &AppState, caller: &Caller, id: Uuid) -> Result<Shown, WebError> {
    let gate = caller.gate(state);
    let r = gate.referral(id).await?;
    let links = gate.partner_links(&r).await?;
    let contact = gate.referral_contact(&r).await?;
    Ok((r, links, contact))
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    match with_links(&state, &caller, id).await {
        Ok(r) => referral_page(&viewer, &caller, r, StatusCode::OK, None),
        Err(e) => error_page(&viewer, e),
    }
}

/// The referral's page again, with a problem to show (422).
pub(super) async fn show_with_error(
    state: &AppState,
    viewer: &Viewer,
    caller: &Caller,
    id: Uuid,
    message: String,
) -> Response {
    match with_links(state, caller, id).await {
        Ok(r) => referral_page(viewer, caller, r, StatusCode::UNPROCESSABLE_ENTITY, Some(message)),
        Err(e) => error_page(viewer, e),
    }
}

#[derive(serde::Deserialize)]
pub struct SlipQuery {
    /// The language to print the slip in, the person's: the viewer's own is left as it is.
    language: Option<String>,
}

/// The viewer, reading in `lang` for this one page (a slip printed in the person's language).
pub(super) fn reading_in(viewer: &Viewer, lang: Option<Lang>) -> Viewer {
    let mut v = viewer.clone();
    if let Some(lang) = lang {
        v.tr = Tr::new(lang);
    }
    v
}

pub async fn slip(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    axum::extract::Query(q): axum::extract::Query<SlipQuery>,
) -> Response {
    let printed = reading_in(&viewer, q.language.as_deref().and_then(|l| l.parse().ok()));
    match caller.gate(&state).referral(id).await {
        Ok(mut r) => {
            crate::words::localise(&printed.tr, &mut r);
            page(
                &printed,
                StatusCode::OK,
                &SlipPage { c: Chrome::new(&printed), urgency: urgency_label(&printed.tr, r.urgency), link: None, r },
            )
        }
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
    let result = match Transition::parse(f.val("step"), f.val("reason"), f.val("barrier"), f.val("outcome")) {
        Ok(step) => gate.transition(id, &step, state.notifier.as_ref()).await.map_err(WebError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/referrals/{id}")).into_response(),
        Err(e @ (WebError::Invalid { .. } | WebError::Conflict { .. })) => {
            match with_links(&state, &caller, id).await {
                Ok(r) => referral_page(&viewer, &caller, r, e.status(), Some(e.to_string())),
                Err(e) => error_page(&viewer, e),
            }
        }
        Err(e) => error_page(&viewer, e),
    }
}
