//! What pages and the API share about partner links: the link's address, its QR code and the
//! message that sends it.

use hamroh_store::{OutboxMessage, ReferralDetail};
use uuid::Uuid;

use crate::AppState;
use crate::i18n::Tr;

/// Where the link's page is: the deployment's public address, or the one this request came to.
pub fn link_url(state: &AppState, headers: &axum::http::HeaderMap, https: bool, token: &str) -> String {
    format!("{}/r/{token}", base_url(state, headers, https))
}

/// The deployment's public address, or the one this request came to, without a trailing slash.
pub fn base_url(state: &AppState, headers: &axum::http::HeaderMap, https: bool) -> String {
    match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            format!("{}://{host}", if https { "https" } else { "http" })
        }
    }
}

/// The link as a QR code, an SVG drawing a phone's camera reads.
pub fn qr_svg(url: &str) -> String {
    qrcode::QrCode::new(url.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(180, 180).quiet_zone(true).build())
        .unwrap_or_default()
}

/// The message that sends a link to a phone (SMS) or an e-mail address, in `lang`.
pub fn link_message(t: &Tr, to: &str, r: &ReferralDetail, url: &str, expires: &str) -> Option<OutboxMessage> {
    let channel = if to.contains('@') {
        "email"
    } else {
        hamroh_domain::person::Phone::parse(to).ok()?;
        "sms"
    };
    let args = [
        ("code", r.code.clone()),
        ("service", crate::words::name(t, &r.service_words)),
        ("url", url.to_owned()),
        ("expires", expires.to_owned()),
    ];
    Some(OutboxMessage {
        id: Uuid::now_v7(),
        channel: channel.into(),
        recipient: to.trim().to_owned(),
        lang: t.lang.as_str().into(),
        subject: t.with("notify-link-subject", &args),
        body: t.with("notify-link-body", &args),
        referral_id: Some(r.id),
        attempts: 0,
    })
}
