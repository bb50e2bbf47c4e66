//! Notification texts, from the Fluent files, in each recipient's language. They carry the
//! referral's code and service, never a person's name.

use hamroh_domain::org::Lang;
use hamroh_store::{Contact, NoticeKind, Notifier, OutboxMessage, ReferralNotice};
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
            for (channel, recipient) in [("email", &contact.email), ("sms", &contact.phone)] {
                if let Some(recipient) = recipient {
                    out.push(OutboxMessage {
                        id: Uuid::now_v7(),
                        channel: channel.to_owned(),
                        recipient: recipient.clone(),
                        lang: t.lang.as_str().to_owned(),
                        subject: subject.clone(),
                        body: body.clone(),
                        referral_id: Some(notice.referral_id),
                        attempts: 0,
                    });
                }
            }
        }
        out
    }
}
