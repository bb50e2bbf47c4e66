//! Referrals across organisations: creating one, moving it through its states (the rules are the
//! domain's), and the lists people work from: inbox, overdue, follow-ups due, lost to follow-up.

use hamroh_domain::model::{Referral, ReferralEvent};
use hamroh_domain::org::Sector;
use hamroh_domain::referral::{Barrier, ReferralStatus, Urgency};
use hamroh_domain::service::{Cost, ServiceLanguage};
use hamroh_domain::wording::{Wording, Words};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

use crate::audit::{Actor, NewAuditEvent};
use crate::exec::sql;
use crate::{Result, Store, StoreError, now_millis};

/// What can happen to an open follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUpChange {
    Complete { outcome: Option<String> },
    Cancel { reason: String },
    Reschedule { due_date: jiff::civil::Date },
}

/// One instrument's result of the encounter behind a referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralResult {
    pub instrument: String,
    pub total: Option<i64>,
    pub band: Option<String>,
    pub positive: Option<bool>,
    /// Red flags, comma-separated.
    pub flags: String,
}

/// What a referral's page and its state changes need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralDetail {
    pub id: Uuid,
    pub code: String,
    pub person_id: Uuid,
    pub person_code: String,
    pub from_organisation_id: Uuid,
    pub from_organisation: String,
    pub service_id: Uuid,
    pub service: String,
    /// How to reach the service (address, phone) and when it is open, as its directory entry says.
    pub service_contact: Option<String>,
    pub service_hours: Option<String>,
    /// The service's and the receiving organisation's words in every language they have them in.
    pub service_words: Words,
    pub to_organisation_words: Words,
    pub to_organisation_id: Uuid,
    pub to_organisation: String,
    pub to_sector: Sector,
    pub receiver_uses_hamroh: bool,
    pub reason: String,
    pub urgency: Urgency,
    pub due_date: String,
    pub status: ReferralStatus,
    pub note: Option<String>,
    pub outcome: Option<String>,
    pub created_at: i64,
    pub history: Vec<HistoryLine>,
    /// The results of the encounter that led to the referral, for the receiver to act on.
    pub results: Vec<ReferralResult>,
    /// Clinical content (reason, note, outcome, the reasons of steps) is withheld: the person
    /// withdrew consent to share with the receiver reading it.
    pub restricted: bool,
}

impl ReferralDetail {
    /// The referral as the access rules see its parties.
    pub fn parties(&self) -> hamroh_domain::access::ReferralParties {
        hamroh_domain::access::ReferralParties {
            from_organisation: self.from_organisation_id,
            to_organisation: self.to_organisation_id,
            to_sector: self.to_sector,
        }
    }

    /// The referral without its clinical content.
    pub fn without_clinical_content(mut self) -> Self {
        self.reason = String::new();
        self.note = None;
        self.outcome = None;
        self.results.clear();
        for line in &mut self.history {
            line.reason = None;
        }
        self.restricted = true;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryLine {
    pub from_status: Option<ReferralStatus>,
    pub to_status: ReferralStatus,
    pub at: i64,
    pub by_user: Option<String>,
    pub reason: Option<String>,
    pub barrier: Option<Barrier>,
}

/// A line of a worklist: a referral, without the person's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralItem {
    pub id: Uuid,
    pub code: String,
    pub person_code: String,
    pub service: String,
    pub from_organisation: String,
    pub to_organisation: String,
    pub urgency: Urgency,
    pub status: ReferralStatus,
    pub due_date: String,
}

/// An open follow-up in a worklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUpItem {
    pub id: Uuid,
    pub person_id: Uuid,
    pub person_code: String,
    pub kind: String,
    pub due_date: String,
    /// The organisation whose follow-up it is.
    pub organisation_id: Uuid,
    pub organisation: String,
}

/// A service in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceEntry {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub organisation: String,
    pub uses_hamroh: bool,
    pub name: String,
    pub sector: Sector,
    pub service_type: String,
    pub response_days: i64,
    pub languages: Vec<ServiceLanguage>,
    pub cost: Cost,
    pub accessible: bool,
    pub contact: Option<String>,
    pub opening_hours: Option<String>,
    pub districts: Vec<String>,
    /// The service's and its organisation's words in every language they have them in.
    pub words: Words,
    pub organisation_words: Words,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    #[sqlx(flatten)]
    service: crate::directory::ServiceRow,
    organisation: String,
    uses_hamroh: bool,
    organisation_lang: String,
    organisation_translations: String,
}

/// An entry's words from its stored columns.
fn words(lang: &str, own: Wording, translations: &str) -> Result<Words> {
    Ok(Words { lang: lang.parse()?, own, translations: crate::directory::parse_translations(translations)? })
}

impl ServiceEntry {
    /// Whether the service covers a district (any, for an empty one) and belongs to a sector (any,
    /// for `None`).
    pub fn serves(&self, district: &str, sector: Option<Sector>) -> bool {
        (district.is_empty() || self.districts.iter().any(|d| d == district)) && sector.is_none_or(|x| self.sector == x)
    }
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    id: Uuid,
    code: String,
    person_id: Uuid,
    person_code: String,
    from_organisation_id: Uuid,
    from_name: String,
    service_id: Uuid,
    service_name: String,
    to_organisation_id: Uuid,
    to_name: String,
    to_sector: String,
    uses_hamroh: bool,
    reason: String,
    urgency: String,
    due_date: String,
    status: String,
    note: Option<String>,
    outcome: Option<String>,
    created_at: i64,
    service_contact: Option<String>,
    service_hours: Option<String>,
    service_description: Option<String>,
    service_lang: String,
    service_translations: String,
    to_lang: String,
    to_translations: String,
}

/// The most rows a worklist section reads, and counts: a section that holds this many may hold more.
pub const WORKLIST_ROWS: usize = 500;

/// The first rows of a worklist section, most urgent first, and how many rows the section holds,
/// counted up to [`WORKLIST_ROWS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub rows: Vec<T>,
    pub count: usize,
}

impl<T> Listing<T> {
    pub(crate) fn of(rows: Vec<T>, count: i64) -> Self {
        let count = usize::try_from(count).unwrap_or_default().max(rows.len());
        Self { rows, count }
    }

    /// Whether the section may hold more rows than its count.
    pub fn capped(&self) -> bool {
        self.count >= WORKLIST_ROWS
    }
}

/// Counts the rows of `from` (a `FROM ... WHERE ...`) up to [`WORKLIST_ROWS`]: with an index on
/// the condition this reads index entries only, where the rows shown need their joins.
pub(crate) fn capped_count(from: &str) -> String {
    format!("SELECT COUNT(*) FROM (SELECT 1 AS one {from} LIMIT {WORKLIST_ROWS}) capped")
}

/// A referral as a worklist lists it; `FROM referrals r ...` follows.
const ITEM_SELECT: &str = "SELECT r.id, r.code, \
    r.person_id, (SELECT s.name FROM services s WHERE s.id = r.service_id), \
    (SELECT fo.name FROM organisations fo WHERE fo.id = r.from_organisation_id), \
    (SELECT o.name FROM organisations o WHERE o.id = r.to_organisation_id), r.urgency, r.status, r.due_date";

type ItemRow = (Uuid, String, Uuid, String, String, String, String, String, String);

fn item(row: ItemRow, codes: &HashMap<Uuid, String>) -> Result<ReferralItem> {
    let (id, code, person_id, service, from_organisation, to_organisation, urgency, status, due_date) = row;
    Ok(ReferralItem {
        id,
        code,
        person_code: codes.get(&person_id).cloned().unwrap_or_default(),
        service,
        from_organisation,
        to_organisation,
        urgency: urgency.parse()?,
        status: status.parse()?,
        due_date,
    })
}

impl Store {
    /// Listed referrals, with their persons' codes.
    async fn items(&self, rows: Vec<ItemRow>) -> Result<Vec<ReferralItem>> {
        let codes = self.person_codes(rows.iter().map(|r| r.2)).await?;
        rows.into_iter().map(|r| item(r, &codes)).collect()
    }

    pub async fn services(&self) -> Result<Vec<ServiceEntry>> {
        let rows: Vec<EntryRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT s.id, s.organisation_id, o.name AS organisation, o.uses_hamroh, o.name_lang AS organisation_lang, \
                 o.translations AS organisation_translations, s.name, s.sector, s.service_type, s.response_days, \
                 s.languages, s.cost, s.accessible, s.contact, s.opening_hours, s.description, s.text_lang, \
                 s.translations FROM services s JOIN organisations o ON o.id = s.organisation_id \
                 ORDER BY s.sector, o.name, s.name",
            )
            .fetch_all(pool)
            .await?
        });
        let covered: Vec<(Uuid, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT service_id, district FROM service_districts").fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|EntryRow { service: r, organisation, uses_hamroh, organisation_lang, organisation_translations }| {
                Ok(ServiceEntry {
                    words: words(
                        &r.text_lang,
                        Wording {
                            name: r.name.clone(),
                            description: r.description,
                            opening_hours: r.opening_hours.clone(),
                        },
                        &r.translations,
                    )?,
                    organisation_words: words(
                        &organisation_lang,
                        Wording { name: organisation.clone(), ..Wording::default() },
                        &organisation_translations,
                    )?,
                    districts: covered.iter().filter(|(s, _)| *s == r.id).map(|(_, d)| d.clone()).collect(),
                    id: r.id,
                    organisation_id: r.organisation_id,
                    organisation,
                    uses_hamroh,
                    name: r.name,
                    sector: r.sector.parse()?,
                    service_type: r.service_type,
                    response_days: r.response_days,
                    languages: crate::directory::parse_languages(&r.languages)?,
                    cost: r.cost.parse()?,
                    accessible: r.accessible,
                    contact: r.contact,
                    opening_hours: r.opening_hours,
                })
            })
            .collect()
    }

    pub async fn referral_detail(&self, id: Uuid) -> Result<Option<ReferralDetail>> {
        let row: Option<DetailRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT r.id, r.code, r.person_id, p.code AS person_code, r.from_organisation_id, fo.name AS from_name, \
                 r.service_id, s.name AS service_name, r.to_organisation_id, o.name AS to_name, o.sector AS to_sector, \
                 o.uses_hamroh, r.reason, r.urgency, r.due_date, r.status, r.note, r.outcome, r.created_at, \
                 s.contact AS service_contact, s.opening_hours AS service_hours, s.description AS service_description, \
                 s.text_lang AS service_lang, s.translations AS service_translations, o.name_lang AS to_lang, \
                 o.translations AS to_translations \
                 FROM referrals r JOIN persons p ON p.id = r.person_id JOIN services s ON s.id = r.service_id \
                 JOIN organisations o ON o.id = r.to_organisation_id JOIN organisations fo ON fo.id = r.from_organisation_id \
                 WHERE r.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let Some(r) = row else { return Ok(None) };
        type EventRow = (Option<String>, String, i64, Option<String>, Option<String>, Option<String>);
        let events: Vec<EventRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT e.from_status, e.to_status, e.at, u.display_name, e.reason, e.barrier FROM referral_events e \
                 LEFT JOIN users u ON u.id = e.by_user_id WHERE e.referral_id = $1 ORDER BY e.seq",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        let history = events
            .into_iter()
            .map(|(from, to, at, by_user, reason, barrier)| {
                Ok(HistoryLine {
                    from_status: from.map(|f| f.parse()).transpose()?,
                    to_status: to.parse()?,
                    at,
                    by_user,
                    reason,
                    barrier: barrier.map(|b| b.parse()).transpose()?,
                })
            })
            .collect::<Result<_>>()?;
        type ResultRow = (String, Option<i64>, Option<String>, Option<bool>, String);
        let results: Vec<ResultRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT s.instrument, s.total, s.band, s.positive, s.flags FROM referrals r \
                 JOIN screenings f ON f.id = r.screening_id JOIN screenings s ON s.encounter_id = f.encounter_id \
                 WHERE r.id = $1 ORDER BY s.instrument",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        Ok(Some(ReferralDetail {
            service_words: words(
                &r.service_lang,
                Wording {
                    name: r.service_name.clone(),
                    description: r.service_description,
                    opening_hours: r.service_hours.clone(),
                },
                &r.service_translations,
            )?,
            to_organisation_words: words(
                &r.to_lang,
                Wording { name: r.to_name.clone(), ..Wording::default() },
                &r.to_translations,
            )?,
            results: results
                .into_iter()
                .map(|(instrument, total, band, positive, flags)| ReferralResult {
                    instrument,
                    total,
                    band,
                    positive,
                    flags,
                })
                .collect(),
            id: r.id,
            code: r.code,
            person_id: r.person_id,
            person_code: r.person_code,
            from_organisation_id: r.from_organisation_id,
            from_organisation: r.from_name,
            service_id: r.service_id,
            service: r.service_name,
            service_contact: r.service_contact,
            service_hours: r.service_hours,
            to_organisation_id: r.to_organisation_id,
            to_organisation: r.to_name,
            to_sector: r.to_sector.parse()?,
            receiver_uses_hamroh: r.uses_hamroh,
            reason: r.reason,
            urgency: r.urgency.parse()?,
            due_date: r.due_date,
            status: r.status.parse()?,
            note: r.note,
            outcome: r.outcome,
            created_at: r.created_at,
            history,
            restricted: false,
        }))
    }

    /// Moves a referral from `from` to `to`, recording the event and its audit in one transaction.
    /// Fails with `Conflict` if someone else moved it first.
    pub async fn record_transition(
        &self,
        actor: &Actor,
        referral: &ReferralDetail,
        to: ReferralStatus,
        event: &ReferralEvent,
        outcome: Option<&str>,
        messages: &[crate::outbox::OutboxMessage],
    ) -> Result<()> {
        let now = now_millis();
        let mut audit = NewAuditEvent::ok("transition", "referral", referral.id).person(referral.person_id);
        audit.detail = Some(format!("{} -> {}", referral.status, to));
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        if to == ReferralStatus::Attended {
            crate::lost::lock_persons(&mut tx, &[referral.person_id]).await?;
        }
        let n = tx.execute(sql(
            "UPDATE referrals SET status = $1, updated_at = $2, outcome = COALESCE($3, outcome) WHERE id = $4 AND status = $5",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(outcome)
        .bind(referral.id)
        .bind(referral.status.as_str()))
        .await?;
        if n == 0 {
            return Err(StoreError::Conflict("the referral changed meanwhile; reload it".into()));
        }
        let mut inc = crate::cube::Increments::default();
        crate::cube::count_step(&mut tx, referral, event, &mut inc).await?;
        let seq: i64 =
            tx.scalar(sql("SELECT COUNT(*) FROM referral_events WHERE referral_id = $1").bind(referral.id)).await?;
        tx.execute(sql(
            "INSERT INTO referral_events (referral_id, seq, from_status, to_status, at, by_user_id, reason, barrier, note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(referral.id)
        .bind(seq)
        .bind(event.from_status.map(|s| s.as_str()))
        .bind(event.to_status.as_str())
        .bind(event.at)
        .bind(event.by_user_id)
        .bind(&event.reason)
        .bind(event.barrier.map(|b| b.as_str()))
        .bind(&event.note))
        .await?;
        if to == ReferralStatus::Attended {
            crate::lost::refresh_unanswered(&mut tx, &[referral.person_id]).await?;
        }
        crate::audit::append(&mut tx, actor, &[&audit]).await?;
        crate::cube::flush(&mut tx, &inc).await?;
        crate::outbox::enqueue(&mut tx, &messages.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user who sent a referral, if known.
    pub async fn referral_sender(&self, id: Uuid) -> Result<Option<Uuid>> {
        let sender: Option<Option<Uuid>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT from_user_id FROM referrals WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        Ok(sender.flatten())
    }

    /// Referrals an organisation sent that changed state at or after `since` (milliseconds), the
    /// newest change first: what the sender should see.
    pub async fn sent_updates(&self, organisation_id: Uuid, since: i64, limit: usize) -> Result<Listing<ReferralItem>> {
        let from =
            "FROM referrals r WHERE r.from_organisation_id = $1 AND r.updated_at >= $2 AND r.updated_at > r.created_at";
        let sql = format!("{ITEM_SELECT} {from} ORDER BY r.updated_at DESC, r.code LIMIT {limit}");
        let count = capped_count(from);
        let (rows, count): (Vec<ItemRow>, i64) =
            self.section_rows(limit, sql, count, values![organisation_id, since]).await?;
        Ok(Listing::of(self.items(rows).await?, count))
    }

    /// Referrals to an organisation that wait for its answer or for attendance, the `limit`
    /// due first.
    pub async fn inbox(&self, organisation_id: Uuid, limit: usize) -> Result<Listing<ReferralItem>> {
        let from =
            concat!("FROM referrals r WHERE r.to_organisation_id = $1 AND r.status IN ", awaiting_referral_statuses!());
        let sql = format!("{ITEM_SELECT} {from} ORDER BY r.due_date, r.code LIMIT {limit}");
        let count = capped_count(from);
        let (rows, count): (Vec<ItemRow>, i64) = self.section_rows(limit, sql, count, values![organisation_id]).await?;
        Ok(Listing::of(self.items(rows).await?, count))
    }

    /// An organisation's referrals (every organisation's, for `None`) still open after their due
    /// date (`before` as `YYYY-MM-DD`), the `limit` most overdue first.
    pub async fn overdue_referrals(
        &self,
        organisation_id: Option<Uuid>,
        before: &str,
        limit: usize,
    ) -> Result<Listing<ReferralItem>> {
        // One text per case: "$1 IS NULL OR column = $1" would keep the planner from the index.
        let from = format!(
            "FROM referrals r WHERE {} AND r.status IN {} AND r.due_date < $2",
            if organisation_id.is_some() { "r.from_organisation_id = $1" } else { "$1 IS NULL" },
            awaiting_referral_statuses!()
        );
        let sql = format!("{ITEM_SELECT} {from} ORDER BY r.due_date, r.code LIMIT {limit}");
        let count = capped_count(&from);
        let (rows, count): (Vec<ItemRow>, i64) =
            self.section_rows(limit, sql, count, values![organisation_id, before]).await?;
        Ok(Listing::of(self.items(rows).await?, count))
    }

    /// Open follow-ups of an organisation (every organisation's, for `None`) due on or before a
    /// day (`YYYY-MM-DD`), the `limit` due first.
    pub async fn follow_ups_due(
        &self,
        organisation_id: Option<Uuid>,
        until: &str,
        limit: usize,
    ) -> Result<Listing<FollowUpItem>> {
        let filter = format!(
            "WHERE {} AND f.status = 'open' AND f.due_date <= $2",
            if organisation_id.is_some() { "f.organisation_id = $1" } else { "$1 IS NULL" }
        );
        let from = format!("FROM follow_ups f {filter}");
        let sql = format!(
            "SELECT f.id, f.person_id, f.kind, f.due_date, f.organisation_id, o.name FROM follow_ups f \
             JOIN organisations o ON o.id = f.organisation_id {filter} ORDER BY f.due_date LIMIT {limit}"
        );
        let count = capped_count(&from);
        type Row = (Uuid, Uuid, String, String, Uuid, String);
        let (rows, count): (Vec<Row>, i64) =
            self.section_rows(limit, sql, count, values![organisation_id, until]).await?;
        let codes = self.person_codes(rows.iter().map(|r| r.1)).await?;
        let rows = rows
            .into_iter()
            .map(|(id, person_id, kind, due_date, organisation_id, organisation)| FollowUpItem {
                id,
                person_id,
                person_code: codes.get(&person_id).cloned().unwrap_or_default(),
                kind,
                due_date,
                organisation_id,
                organisation,
            })
            .collect();
        Ok(Listing::of(rows, count))
    }

    /// Referrals declined, missed or cancelled since `since`, with the barrier reported:
    /// (referral id, referral code, from, to, status, barrier).
    pub async fn recent_barriers(
        &self,
        since: i64,
    ) -> Result<Vec<(Uuid, String, String, String, String, Option<String>)>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT r.id, r.code, fo.name, o.name, e.to_status, e.barrier FROM referral_events e \
                 JOIN referrals r ON r.id = e.referral_id JOIN organisations o ON o.id = r.to_organisation_id \
                 JOIN organisations fo ON fo.id = r.from_organisation_id \
                 WHERE e.to_status IN ('declined', 'no_show', 'cancelled') AND e.at >= $1 ORDER BY e.at DESC LIMIT 200",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Marks a follow-up done, audited.
    pub async fn complete_follow_up(&self, actor: &Actor, id: Uuid, person_id: Uuid) -> Result<()> {
        self.change_follow_up(actor, id, person_id, &FollowUpChange::Complete { outcome: None }).await
    }

    /// Completes, cancels or reschedules an open follow-up, audited.
    pub async fn change_follow_up(
        &self,
        actor: &Actor,
        id: Uuid,
        person_id: Uuid,
        change: &FollowUpChange,
    ) -> Result<()> {
        let (verb, detail) = match change {
            FollowUpChange::Complete { .. } => ("complete", None),
            FollowUpChange::Cancel { .. } => ("cancel", None),
            FollowUpChange::Reschedule { due_date } => ("reschedule", Some(due_date.to_string())),
        };
        let mut event = NewAuditEvent::ok(verb, "follow_up", id).person(person_id);
        event.detail = detail;
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        let q = match change {
            FollowUpChange::Complete { outcome } => {
                sql("UPDATE follow_ups SET status = 'done', done_at = $1, done_by = $2, outcome = $3 \
                 WHERE id = $4 AND status = 'open'")
                .bind(now)
                .bind(actor.user_id)
                .bind(outcome.as_deref())
            }
            FollowUpChange::Cancel { reason } => {
                sql("UPDATE follow_ups SET status = 'cancelled', done_at = $1, done_by = $2, outcome = $3 \
                 WHERE id = $4 AND status = 'open'")
                .bind(now)
                .bind(actor.user_id)
                .bind(reason.as_str())
            }
            FollowUpChange::Reschedule { due_date } => {
                sql("UPDATE follow_ups SET due_date = $1, done_at = NULL, done_by = $2, outcome = $3 \
                 WHERE id = $4 AND status = 'open'")
                .bind(due_date.to_string())
                .bind(None::<Uuid>)
                .bind(None::<&str>)
            }
        };
        let n = tx.execute(q.bind(id)).await?;
        if n == 0 {
            // The gate found the follow-up: it is no longer open.
            return Err(StoreError::Conflict("this follow-up is no longer open".into()));
        }
        if matches!(change, FollowUpChange::Complete { .. }) {
            crate::lost::refresh_unanswered(&mut tx, &[person_id]).await?;
        }
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn follow_up_person(&self, id: Uuid) -> Result<Option<Uuid>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT person_id FROM follow_ups WHERE id = $1").bind(id).fetch_optional(pool).await?
        }))
    }

    /// A person's referrals as records, with every step (read through the gate, which audits).
    pub async fn referrals_with_steps(&self, person_id: Uuid) -> Result<Vec<Referral>> {
        type Row = (
            Uuid,
            String,
            Uuid,
            Option<Uuid>,
            Uuid,
            Uuid,
            Option<Uuid>,
            String,
            String,
            String,
            String,
            Option<String>,
            i64,
        );
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, code, from_organisation_id, from_user_id, service_id, to_organisation_id, screening_id, \
                 reason, urgency, due_date, status, note, created_at FROM referrals WHERE person_id = $1 ORDER BY created_at",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            type EventRow = (Option<String>, String, i64, Option<Uuid>, Option<String>, Option<String>, Option<String>);
            let events: Vec<EventRow> = with_pool!(self, pool => {
                sqlx::query_as(
                    "SELECT from_status, to_status, at, by_user_id, reason, barrier, note FROM referral_events \
                     WHERE referral_id = $1 ORDER BY seq",
                )
                .bind(r.0)
                .fetch_all(pool)
                .await?
            });
            out.push(Referral {
                id: r.0,
                code: r.1,
                person_id,
                from_organisation_id: r.2,
                from_user_id: r.3,
                service_id: r.4,
                to_organisation_id: r.5,
                screening_id: r.6,
                reason: r.7,
                urgency: r.8.parse()?,
                due_date: r.9.parse().map_err(|e: jiff::Error| StoreError::Corrupt(e.to_string()))?,
                status: r.10.parse()?,
                note: r.11,
                created_at: r.12,
                events: events
                    .into_iter()
                    .map(|e| {
                        Ok(ReferralEvent {
                            from_status: e.0.map(|s| s.parse()).transpose()?,
                            to_status: e.1.parse()?,
                            at: e.2,
                            by_user_id: e.3,
                            reason: e.4,
                            barrier: e.5.map(|b| b.parse()).transpose()?,
                            note: e.6,
                        })
                    })
                    .collect::<Result<_>>()?,
            });
        }
        Ok(out)
    }

    /// Stores a new referral with its first event, and the messages that announce it.
    pub async fn add_referral(
        &self,
        actor: &Actor,
        referral: &Referral,
        messages: &[crate::outbox::OutboxMessage],
    ) -> Result<()> {
        let batch = hamroh_domain::model::Batch { referrals: vec![referral.clone()], ..Default::default() };
        self.insert_batch_with_outbox(actor, &batch, messages).await
    }
}
