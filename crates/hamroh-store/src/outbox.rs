//! The outbox: e-mail and SMS messages written in the same transaction as the change they tell
//! of, then delivered at least once by a worker through a pluggable gateway, with retries and a
//! growing wait between them.

use serde::Serialize;
use uuid::Uuid;

use crate::exec::sql;
use crate::{Result, Store, now_millis};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    pub id: Uuid,
    /// `email` or `sms`.
    pub channel: String,
    pub recipient: String,
    pub lang: String,
    pub subject: String,
    pub body: String,
    pub referral_id: Option<Uuid>,
    pub attempts: i64,
}

/// Someone to tell, with the channels they can be reached on and their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lang: String,
}

/// What happened to a referral, without any personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralNotice {
    pub referral_id: Uuid,
    pub code: String,
    pub service: String,
    pub urgency: hamroh_domain::referral::Urgency,
    pub due_date: String,
    pub status: hamroh_domain::referral::ReferralStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A new referral for the receiving organisation.
    Received,
    /// A referral the sender sent has changed state.
    Updated,
}

/// A red flag to tell of, with the person's pseudonymous code only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    pub person_code: String,
    pub flag: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// A new red flag, for the organisation that raised it.
    Raised,
    /// A red flag not assessed in time, or an assessment that found imminent risk, for the
    /// coordinators.
    Escalated,
}

/// Writes the messages for a notice, in each contact's language (the web layer's Fluent texts).
pub trait Notifier: Send + Sync {
    fn compose(&self, notice: &ReferralNotice, kind: NoticeKind, contacts: &[Contact]) -> Vec<OutboxMessage>;

    /// The messages for a red flag.
    fn alert(&self, alert: &Alert, contacts: &[Contact]) -> Vec<OutboxMessage>;
}

/// Writes no messages (for callers that notify nobody, such as the demo loader).
pub struct Silent;

impl Notifier for Silent {
    fn compose(&self, _: &ReferralNotice, _: NoticeKind, _: &[Contact]) -> Vec<OutboxMessage> {
        Vec::new()
    }

    fn alert(&self, _: &Alert, _: &[Contact]) -> Vec<OutboxMessage> {
        Vec::new()
    }
}

/// Where messages go: an e-mail or SMS service in a deployment; a file or the log by default.
pub trait Gateway: Send + Sync {
    fn send(&self, message: &OutboxMessage) -> std::result::Result<(), String>;
}

/// Writes each message as one JSON line to a file.
pub struct FileGateway(pub std::path::PathBuf);

impl Gateway for FileGateway {
    fn send(&self, message: &OutboxMessage) -> std::result::Result<(), String> {
        use std::io::Write;
        let line = serde_json::to_string(message).map_err(|e| e.to_string())?;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.0).map_err(|e| e.to_string())?;
        writeln!(f, "{line}").and_then(|()| f.sync_data()).map_err(|e| e.to_string())
    }
}

/// Logs that a message would be sent: its id and channel only, never its content or recipient.
pub struct LogGateway;

impl Gateway for LogGateway {
    fn send(&self, message: &OutboxMessage) -> std::result::Result<(), String> {
        tracing::info!(id = %message.id, channel = %message.channel, "message delivered to the log gateway");
        Ok(())
    }
}

/// Minutes to wait before the next attempt: 1, 2, 4 ... up to an hour.
fn backoff_ms(attempts: i64) -> i64 {
    60_000 * (1_i64 << attempts.clamp(0, 6)).min(60)
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: usize,
    pub failed: usize,
}

impl Store {
    /// Messages waiting, delivered or not (for tests and the admin view).
    pub async fn outbox_messages(&self, delivered: bool) -> Result<Vec<OutboxMessage>> {
        type Row = (Uuid, String, String, String, String, String, Option<Uuid>, i64);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, channel, recipient, lang, subject, body, referral_id, attempts FROM outbox \
                 WHERE (delivered_at IS NOT NULL) = $1 ORDER BY created_at, id",
            )
            .bind(delivered)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, channel, recipient, lang, subject, body, referral_id, attempts)| OutboxMessage {
                id,
                channel,
                recipient,
                lang,
                subject,
                body,
                referral_id,
                attempts,
            })
            .collect())
    }

    /// Delivers up to `limit` due messages through `gateway`. A failure leaves the message for a
    /// later round; a crash after sending and before marking it sends it again (at least once).
    pub async fn deliver_outbox(&self, gateway: &dyn Gateway, limit: i64) -> Result<Delivery> {
        let now = now_millis();
        type Row = (Uuid, String, String, String, String, String, Option<Uuid>, i64);
        let due: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, channel, recipient, lang, subject, body, referral_id, attempts FROM outbox \
                 WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut result = Delivery::default();
        for (id, channel, recipient, lang, subject, body, referral_id, attempts) in due {
            let message = OutboxMessage { id, channel, recipient, lang, subject, body, referral_id, attempts };
            match gateway.send(&message) {
                Ok(()) => {
                    with_pool!(self, pool => {
                        sqlx::query("UPDATE outbox SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2").bind(now_millis()).bind(id).execute(pool).await?;
                    });
                    result.delivered += 1;
                }
                Err(error) => {
                    let next = now_millis() + backoff_ms(attempts);
                    with_pool!(self, pool => {
                        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3")
                            .bind(next)
                            .bind(error.chars().take(500).collect::<String>())
                            .bind(id)
                            .execute(pool)
                            .await?;
                    });
                    result.failed += 1;
                }
            }
        }
        Ok(result)
    }

    /// The users of an organisation (or one user) who can be reached, with their language.
    pub async fn contacts(&self, organisation_id: Option<Uuid>, user_id: Option<Uuid>) -> Result<Vec<Contact>> {
        let rows: Vec<(Option<String>, Option<String>, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT email, phone, lang FROM users WHERE disabled = FALSE AND ($1 IS NULL OR organisation_id = $1) \
                 AND ($2 IS NULL OR id = $2) AND (email IS NOT NULL OR phone IS NOT NULL) ORDER BY username",
            )
            .bind(organisation_id)
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(email, phone, lang)| Contact { email, phone, lang }).collect())
    }

    /// Sets a user's e-mail address and phone for notifications.
    pub async fn set_contact(
        &self,
        actor: &crate::Actor,
        user_id: Uuid,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<()> {
        let event = crate::NewAuditEvent::ok("set_contact", "user", user_id);
        let mut tx = self.begin_write().await?;
        tx.execute(sql("UPDATE users SET email = $1, phone = $2 WHERE id = $3").bind(email).bind(phone).bind(user_id))
            .await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Inserts `messages` inside the transaction `tx`.
pub(crate) async fn enqueue(tx: &mut crate::exec::Tx, messages: &[&OutboxMessage]) -> Result<()> {
    let now = crate::now_millis();
    let rows: Vec<_> = messages
        .iter()
        .map(|m| values![m.id, &m.channel, &m.recipient, &m.lang, &m.subject, &m.body, m.referral_id, now, 0i64, now])
        .collect();
    tx.insert_rows(
        "INSERT INTO outbox (id, channel, recipient, lang, subject, body, referral_id, created_at, attempts, \
         next_attempt_at) ",
        rows,
        "",
    )
    .await?;
    Ok(())
}
