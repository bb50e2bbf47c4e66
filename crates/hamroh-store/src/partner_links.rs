//! Links for receiving services that have no Hamroh accounts: one referral each, no log-in. The
//! sender issues a link (sent through the outbox, or printed as a QR code on the slip); the
//! service opens it on any phone, sees the referral as far as the person's consent to share with
//! it goes, and records its answer: accepted, declined, attended, no-show, the outcome. Every use
//! is audited under the link's own actor. A link ends when it expires, when it is revoked (a new
//! link revokes the earlier one) and when its referral is finished; it opens nothing else.

use hamroh_domain::access::{ReferralAccess, link_access};
use hamroh_domain::referral::{Side, Transition, allowed_from, apply};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::{Actor, NewAuditEvent};
use crate::exec::sql;
use crate::gate::Gate;
use crate::outbox::OutboxMessage;
use crate::referrals::ReferralDetail;
use crate::{Result, Store, StoreError, now_millis};

/// How long a link works unless the sender says otherwise.
pub const DEFAULT_LINK_DAYS: i64 = 30;

/// A link as its referral's page lists it (never its secret, which only its URL holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PartnerLinkLine {
    pub id: Uuid,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub uses: i64,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: Uuid,
    referral_id: Uuid,
    expires_at: i64,
    revoked_at: Option<i64>,
}

/// What a link shows: the referral as its receiver may see it, and the person's name and phone
/// when the person's consent to share covers the receiving service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkView {
    pub referral: ReferralDetail,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub expires_at: i64,
}

/// A store seen through one partner link: its referral and nothing else.
pub struct PartnerGate<'a> {
    store: &'a Store,
    link: LinkRow,
    actor: Actor,
}

/// A person's name (given, then family) and phone, as a receiving service is shown them.
fn contact_of(person: hamroh_domain::model::Person) -> (Option<String>, Option<String>) {
    let name = [person.given_name, person.family_name].into_iter().flatten().collect::<Vec<_>>().join(" ");
    (Some(name).filter(|n| !n.is_empty()), person.phone.map(|p| p.as_str().to_owned()))
}

fn ended(code: &'static str) -> StoreError {
    let message = match code {
        "link_revoked" => "this link was revoked by the service that sent the referral; ask it for a new one",
        "link_expired" => "this link has expired; ask the service that sent the referral for a new one",
        _ => "this referral is finished: the link has done its work and opens nothing more",
    };
    StoreError::Refused { code, message: message.into() }
}

impl Store {
    /// Opens the link whose secret hashes to `secret_hash`, as a client at `address`: refused as
    /// unknown (not found), revoked, expired, or used up when its referral is finished; each
    /// refusal of a known link is audited.
    pub async fn partner_gate(&self, secret_hash: &[u8], address: Option<String>) -> Result<PartnerGate<'_>> {
        let text = "SELECT id, referral_id, expires_at, revoked_at FROM partner_links WHERE secret_hash = $1";
        let Some(link) = self.fetch_optional::<LinkRow>(sql(text).bind(secret_hash)).await? else {
            return Err(StoreError::NotFound);
        };
        let actor = Actor::partner_link(link.id, address);
        let detail = self.referral_detail(link.referral_id).await?.ok_or(StoreError::NotFound)?;
        let refusal = if link.revoked_at.is_some() {
            Some("link_revoked")
        } else if link.expires_at <= now_millis() {
            Some("link_expired")
        } else if allowed_from(detail.status).is_empty() {
            Some("link_used")
        } else {
            None
        };
        if let Some(code) = refusal {
            let mut event = NewAuditEvent::ok("open", "partner_link", link.id).person(detail.person_id);
            event.outcome = "denied";
            event.detail = Some(code.into());
            self.audit(&actor, &[event]).await?;
            return Err(ended(code));
        }
        Ok(PartnerGate { store: self, link, actor })
    }

    /// The links issued for a referral, newest first.
    pub(crate) async fn partner_links_of(&self, referral_id: Uuid) -> Result<Vec<PartnerLinkLine>> {
        self.fetch_all(
            sql("SELECT id, created_at, expires_at, revoked_at, last_used_at, uses FROM partner_links \
                 WHERE referral_id = $1 ORDER BY created_at DESC")
            .bind(referral_id),
        )
        .await
    }
}

impl PartnerGate<'_> {
    /// The link's referral as its receiver may see it, audited as a read by the link.
    pub async fn view(&self) -> Result<LinkView> {
        let (view, _) = self.read("read").await?;
        Ok(view)
    }

    async fn read(&self, action: &'static str) -> Result<(LinkView, ReferralAccess)> {
        let store = self.store;
        let detail = store.referral_detail(self.link.referral_id).await?.ok_or(StoreError::NotFound)?;
        let facts = store.person_facts(detail.person_id).await?.ok_or(StoreError::NotFound)?;
        let access = link_access(&facts, &detail.parties());
        let mut event = NewAuditEvent::ok(action, "referral", detail.id).person(detail.person_id);
        event.detail = Some(format!("partner link {}", self.link.id));
        let (referral, name, phone) = if access == ReferralAccess::Full {
            let (name, phone) = contact_of(store.person(detail.person_id).await?.ok_or(StoreError::NotFound)?);
            (detail, name, phone)
        } else {
            event.detail = Some(format!("partner link {}, restricted", self.link.id));
            (detail.without_clinical_content(), None, None)
        };
        store.audit(&self.actor, &[event]).await?;
        Ok((LinkView { referral, name, phone, expires_at: self.link.expires_at }, access))
    }

    /// Records the receiving service's step, as the receiving side; the sender's user hears of it
    /// through the outbox, in the words `notifier` writes.
    pub async fn step(&self, step: &Transition, notifier: &dyn crate::outbox::Notifier) -> Result<()> {
        if matches!(step, Transition::Cancel { .. } | Transition::Rebook | Transition::Redirect { .. }) {
            return Err(StoreError::Refused {
                code: "referral_illegal_step",
                message: "through this link the service accepts, declines, records attendance or a no-show, \
                          and the outcome"
                    .into(),
            });
        }
        let (view, access) = self.read("step").await?;
        if access == ReferralAccess::Restricted && !hamroh_domain::access::restricted_step_allowed(step) {
            return Err(StoreError::Refused {
                code: "consent_withdrawn",
                message: "the person withdrew consent to share with this service: the referral can only be \
                          declined or closed"
                    .into(),
            });
        }
        let detail = &view.referral;
        let to = apply(detail.status, step, Side::Receiver, detail.receiver_uses_hamroh)
            .map_err(|e| StoreError::Refused { code: "referral_illegal_step", message: e.to_string() })?;
        let now = now_millis();
        let event = hamroh_domain::model::ReferralEvent {
            from_status: Some(detail.status),
            to_status: to,
            at: now,
            by_user_id: None,
            reason: step.reason().map(str::to_owned),
            barrier: step.barrier(),
            note: Some(format!("partner link {}", self.link.id)),
        };
        let outcome = match step {
            Transition::Close { outcome } => Some(outcome.as_str()),
            _ => None,
        };
        let notice = crate::outbox::ReferralNotice {
            referral_id: detail.id,
            code: detail.code.clone(),
            service: detail.service.clone(),
            urgency: detail.urgency,
            due_date: detail.due_date.clone(),
            status: to,
        };
        let contacts = match self.store.referral_sender(detail.id).await? {
            Some(user) => self.store.contacts(None, Some(user)).await?,
            None => Vec::new(),
        };
        let messages = notifier.compose(&notice, crate::outbox::NoticeKind::Updated, &contacts);
        self.store.record_transition(&self.actor, detail, to, &event, outcome, &messages).await?;
        let mut tx = self.store.begin_write().await?;
        tx.execute(
            sql("UPDATE partner_links SET uses = uses + 1, last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(self.link.id),
        )
        .await?;
        tx.commit().await
    }
}

impl Gate<'_> {
    /// Issues a link for a referral this principal sent to a service without Hamroh accounts,
    /// valid for `days`; an earlier link of the referral is revoked. `secret_hash` is the SHA-256
    /// of the secret the caller puts in the link's URL; `messages` send the link (outbox).
    pub async fn issue_partner_link(
        &self,
        referral_id: Uuid,
        secret_hash: &[u8],
        days: i64,
        messages: &[OutboxMessage],
    ) -> Result<PartnerLinkLine> {
        let detail = self.sent_referral(referral_id).await?;
        if detail.receiver_uses_hamroh {
            return Err(StoreError::Refused {
                code: "link_not_needed",
                message: "the receiving service uses Hamroh: it answers on its own worklist".into(),
            });
        }
        if allowed_from(detail.status).is_empty() {
            return Err(ended("link_used"));
        }
        if !(1..=365).contains(&days) {
            return Err(StoreError::Refused {
                code: "invalid_link_days",
                message: "a link lasts from 1 to 365 days".into(),
            });
        }
        let now = now_millis();
        let line = PartnerLinkLine {
            id: Uuid::now_v7(),
            created_at: now,
            expires_at: now + days * 86_400_000,
            revoked_at: None,
            last_used_at: None,
            uses: 0,
        };
        let by = self.principal.user_id;
        let mut event = NewAuditEvent::ok("create", "partner_link", line.id).person(detail.person_id);
        event.detail = Some(format!("referral {referral_id}, {days} days, {} messages", messages.len()));
        let mut tx = self.store.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        tx.execute(
            sql("UPDATE partner_links SET revoked_at = $1, revoked_by = $2 WHERE referral_id = $3 AND revoked_at IS NULL")
                .bind(now)
                .bind(by)
                .bind(referral_id),
        )
        .await?;
        tx.execute(
            sql("INSERT INTO partner_links (id, referral_id, secret_hash, created_at, created_by, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(line.id)
            .bind(referral_id)
            .bind(secret_hash)
            .bind(now)
            .bind(by)
            .bind(line.expires_at),
        )
        .await?;
        crate::audit::append(&mut tx, &self.actor, &[&event]).await?;
        crate::outbox::enqueue(&mut tx, &messages.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(line)
    }

    /// Revokes every working link of a referral this principal sent; how many were revoked.
    pub async fn revoke_partner_links(&self, referral_id: Uuid) -> Result<u64> {
        let detail = self.sent_referral(referral_id).await?;
        let mut event = NewAuditEvent::ok("revoke", "partner_link", referral_id).person(detail.person_id);
        let mut tx = self.store.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        let n = tx
            .execute(
                sql("UPDATE partner_links SET revoked_at = $1, revoked_by = $2 \
                     WHERE referral_id = $3 AND revoked_at IS NULL")
                .bind(now_millis())
                .bind(self.principal.user_id)
                .bind(referral_id),
            )
            .await?;
        event.detail = Some(format!("{n} links"));
        crate::audit::append(&mut tx, &self.actor, &[&event]).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The person's name and phone for the receiving organisation of a referral read through the
    /// gate just before as `detail`, while the person's consent to share with it is in force (the
    /// referral is not restricted); `None` for anyone else. The read is audited.
    pub async fn referral_contact(&self, detail: &ReferralDetail) -> Result<Option<(Option<String>, Option<String>)>> {
        if detail.to_organisation_id != self.principal.organisation_id || detail.restricted {
            return Ok(None);
        }
        let person = self.store.person(detail.person_id).await?.ok_or(StoreError::NotFound)?;
        let mut event = NewAuditEvent::ok("read", "person_contact", detail.person_id).person(detail.person_id);
        event.detail = Some(format!("referral {}", detail.id));
        self.store.audit(&self.actor, &[event]).await?;
        Ok(Some(contact_of(person)))
    }

    /// The links issued for a referral this principal's organisation sent, read through the gate
    /// just before as `detail` (nothing for anyone else).
    pub async fn partner_links(&self, detail: &ReferralDetail) -> Result<Vec<PartnerLinkLine>> {
        if detail.from_organisation_id != self.principal.organisation_id || detail.restricted {
            return Ok(Vec::new());
        }
        self.store.partner_links_of(detail.id).await
    }

    /// A referral this principal's organisation sent and may still write, read through the gate.
    async fn sent_referral(&self, referral_id: Uuid) -> Result<ReferralDetail> {
        let (detail, access) = self.referral_as(referral_id, true).await?;
        if detail.from_organisation_id != self.principal.organisation_id || access != ReferralAccess::Full {
            // Only the sender issues and revokes links; to anyone else the referral is not theirs.
            return Err(StoreError::NotFound);
        }
        Ok(detail)
    }
}
