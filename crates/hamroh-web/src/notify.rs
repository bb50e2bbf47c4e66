//! Notification texts, from the Fluent files, in each recipient's language. They carry the
//! referral's code and service, never a person's name.

use hamroh_domain::org::Lang;
use hamroh_store::{Alert, AlertKind, Contact, NoticeKind, Notifier, OutboxMessage, ReferralNotice};
use uuid::Uuid;

use crate::i18n::Tr;

#[derive(Debug, Default)]
pub struct FluentNotifier;

impl Notifier for FluentNotifier {
    fn compose(&self, notice: &ReferralNotice, kind: NoticeKind, contacts: &[Contact]) -> Vec<OutboxMessage> {
        let mut out = Vec::new();
        for contact in contacts {
            let t = Tr::new(contact.lang.parse().unwrap_or(Lang::Tg));
            let args = [
                ("code", notice.code.clone()),
                ("service", notice.service.clone()),
                ("urgency", t.get(&format!("urgency-{}", notice.urgency))),
                ("due", notice.due_date.clone()),
                ("status", t.get(&format!("referral_status-{}", notice.status))),
            ];
            let (subject, body) = match kind {
                NoticeKind::Received => {
                    (t.with("notify-received-subject", &args), t.with("notify-received-body", &args))
                }
                NoticeKind::Updated => (t.with("notify-updated-subject", &args), t.with("notify-updated-body", &args)),
            };
            out.extend(messages(contact, &t, &subject, &body, Some(notice.referral_id)));
        }
        out
    }

    fn alert(&self, alert: &Alert, contacts: &[Contact]) -> Vec<OutboxMessage> {
        let mut out = Vec::new();
        for contact in contacts {
            let t = Tr::new(contact.lang.parse().unwrap_or(Lang::Tg));
            let args = [("code", alert.person_code.clone()), ("flag", t.get(&format!("flag-{}", alert.flag)))];
            let (subject, body) = match alert.kind {
                AlertKind::Raised => ("notify-flag-subject", "notify-flag-body"),
                AlertKind::Escalated => ("notify-flag-escalated-subject", "notify-flag-escalated-body"),
            };
            out.extend(messages(contact, &t, &t.with(subject, &args), &t.with(body, &args), None));
        }
        out
    }
}

/// One message per channel the contact can be reached on.
fn messages(contact: &Contact, t: &Tr, subject: &str, body: &str, referral_id: Option<Uuid>) -> Vec<OutboxMessage> {
    [("email", &contact.email), ("sms", &contact.phone)]
        .into_iter()
        .filter_map(|(channel, recipient)| {
            Some(OutboxMessage {
                id: Uuid::now_v7(),
                channel: channel.to_owned(),
                recipient: recipient.clone()?,
                lang: t.lang.as_str().to_owned(),
                subject: subject.to_owned(),
                body: body.to_owned(),
                referral_id,
                attempts: 0,
            })
        })
        .collect()
}
