//! Partners without an account: the sender issues a link for one referral (sent as an SMS or an
//! e-mail through the outbox, or printed as a QR code on the slip), and the receiving service
//! answers on a small page that needs no log-in and works on a basic phone. The link's secret is
//! in its URL only; the store keeps its SHA-256.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::org::Lang;
use hamroh_domain::referral::{Barrier, Side, Transition};
use hamroh_store::{LinkView, StoreError};

use super::form::{FormState, form_pairs};
use super::persons::local_time;
use super::referrals::{SlipPage, status_label, steps_for, urgency_label};
use super::{Chrome, error_page, page};
use crate::AppState;
use crate::auth::Caller;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::partner_link::{link_message, link_url, qr_svg};
use crate::session::{Viewer, new_token, token_hash};

/// The steps a link may take: the receiving service's answers.
const LINK_STEPS: &[&str] = &["accept", "decline", "attend", "no_show", "close"];

#[derive(Template)]
#[template(path = "partner.html")]
struct PartnerPage {
    c: Chrome,
    /// The page's own path, which the step forms post back to.
    step_action: String,
    v: LinkView,
    urgency: String,
    status: String,
    /// (step, label, needs reason, needs barrier, needs outcome)
    steps: Vec<(&'static str, String, bool, bool, bool)>,
    barriers: Vec<(&'static str, String)>,
    expires: String,
    error: Option<String>,
}

/// Why a link no longer opens, or that it never did, as a page with its status: 404 for a link
/// that does not exist, 410 for one that has ended.
fn link_refused(viewer: &Viewer, e: StoreError) -> Response {
    let t = &viewer.tr;
    let (status, key) = match &e {
        StoreError::NotFound => (StatusCode::NOT_FOUND, "link-unknown"),
        StoreError::Refused { code: "link_revoked", .. } => (StatusCode::GONE, "link_revoked"),
        StoreError::Refused { code: "link_expired", .. } => (StatusCode::GONE, "link_expired"),
        StoreError::Refused { code: "link_used", .. } => (StatusCode::GONE, "link_used"),
        _ => return error_page(viewer, e.into()),
    };
    let template = super::MessagePage {
        c: Chrome::new(viewer),
        title: t.get("link-title"),
        message: t.get(key),
        back: "/directory".into(),
    };
    page(viewer, status, &template)
}

fn partner_page(viewer: &Viewer, token: &str, mut v: LinkView, status: StatusCode, error: Option<String>) -> Response {
    let t = &viewer.tr;
    crate::words::localise(t, &mut v.referral);
    let steps =
        steps_for(t, &v.referral, Side::Receiver).into_iter().filter(|(step, ..)| LINK_STEPS.contains(step)).collect();
    let template = PartnerPage {
        c: Chrome::new(viewer),
        step_action: format!("/r/{token}"),
        urgency: urgency_label(t, v.referral.urgency),
        status: status_label(t, v.referral.status),
        steps,
        barriers: Barrier::ALL.iter().map(|b| (b.as_str(), t.get(&format!("barrier-{b}")))).collect(),
        expires: local_time(v.expires_at),
        error,
        v,
    };
    page(viewer, status, &template)
}

/// `GET /r/{token}`: the referral as far as the person's consent covers the receiving service.
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(token): Path<String>) -> Response {
    let gate = match state.store.partner_gate(&token_hash(&token), viewer.address.clone()).await {
        Ok(g) => g,
        Err(e) => return link_refused(&viewer, e),
    };
    match gate.view().await {
        Ok(v) => partner_page(&viewer, &token, v, StatusCode::OK, None),
        Err(e) => link_refused(&viewer, e),
    }
}

/// `POST /r/{token}`: the receiving service's answer.
pub async fn step(State(state): State<AppState>, viewer: Viewer, Path(token): Path<String>, body: String) -> Response {
    let gate = match state.store.partner_gate(&token_hash(&token), viewer.address.clone()).await {
        Ok(g) => g,
        Err(e) => return link_refused(&viewer, e),
    };
    let f = FormState::from_pairs(&form_pairs(&body));
    let result = match Transition::parse(f.val("step"), f.val("reason"), f.val("barrier"), f.val("outcome")) {
        Ok(step) => gate.step(&step, state.notifier.as_ref()).await.map_err(WebError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => match gate.view().await {
            // The last step: say it was recorded, since the link opens nothing from now on.
            Ok(v) if hamroh_domain::referral::allowed_from(v.referral.status).is_empty() => {
                let t = &viewer.tr;
                let template = super::MessagePage {
                    c: Chrome::new(&viewer),
                    title: format!("{} {}", t.get("link-title"), v.referral.code),
                    message: t.with("link-saved-final", &[("status", status_label(t, v.referral.status))]),
                    back: "/directory".into(),
                };
                page(&viewer, StatusCode::OK, &template)
            }
            _ => Redirect::to(&format!("/r/{token}")).into_response(),
        },
        Err(e @ (WebError::Invalid { .. } | WebError::Conflict { .. } | WebError::Forbidden { .. })) => {
            match gate.view().await {
                Ok(v) => partner_page(&viewer, &token, v, e.status(), Some(e.to_string())),
                Err(e) => link_refused(&viewer, e),
            }
        }
        Err(e) => error_page(&viewer, e),
    }
}

/// `POST /referrals/{id}/partner-link`: a new link for the referral (the earlier one stops
/// working), sent where the form says and shown once on the printable slip with its QR code.
pub async fn issue(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    headers: axum::http::HeaderMap,
    body: String,
) -> Response {
    let f = FormState::from_pairs(&form_pairs(&body));
    let gate = caller.gate(&state);
    let mut r = match gate.referral(id).await {
        Ok(r) => r,
        Err(e) => return error_page(&viewer, e.into()),
    };
    let days = match f.val("days").trim() {
        "" => hamroh_store::DEFAULT_LINK_DAYS,
        d => match d.parse::<i64>() {
            Ok(d) => d,
            Err(_) => {
                return super::referrals::show_with_error(
                    &state,
                    &viewer,
                    &caller,
                    id,
                    viewer.tr.get("invalid_link_days"),
                )
                .await;
            }
        },
    };
    let lang = f.val("lang").parse::<Lang>().unwrap_or(viewer.tr.lang);
    let token = new_token();
    let url = link_url(&state, &headers, viewer.https, &token);
    let expires_at = hamroh_store::now_millis() + days.clamp(1, 365) * 86_400_000;
    let to = f.val("send_to").trim();
    let messages = if to.is_empty() {
        Vec::new()
    } else {
        match link_message(&Tr::new(lang), to, &r, &url, &local_time(expires_at)) {
            Some(m) => vec![m],
            None => {
                return super::referrals::show_with_error(
                    &state,
                    &viewer,
                    &caller,
                    id,
                    viewer.tr.get("link_send_to_invalid"),
                )
                .await;
            }
        }
    };
    match gate.issue_partner_link(id, &token_hash(&token), days, &messages).await {
        Ok(line) => {
            // The slip in the language of the message: the person's.
            let printed = super::referrals::reading_in(&viewer, Some(lang));
            crate::words::localise(&printed.tr, &mut r);
            let template = SlipPage {
                c: Chrome::new(&printed),
                urgency: urgency_label(&printed.tr, r.urgency),
                link: Some((url.clone(), qr_svg(&url), local_time(line.expires_at))),
                r,
            };
            page(&printed, StatusCode::CREATED, &template)
        }
        Err(StoreError::Refused { code, .. }) => {
            super::referrals::show_with_error(&state, &viewer, &caller, id, viewer.tr.get(code)).await
        }
        Err(e) => error_page(&viewer, e.into()),
    }
}

/// `POST /referrals/{id}/partner-link/revoke`: the referral's link stops working.
pub async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    match caller.gate(&state).revoke_partner_links(id).await {
        Ok(_) => Redirect::to(&format!("/referrals/{id}")).into_response(),
        Err(e) => error_page(&viewer, e.into()),
    }
}
