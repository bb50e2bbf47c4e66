//! The audit trail: append-only and hash-chained.
//!
//! Each event's hash covers its own fields and the previous event's hash, so altering, removing or
//! reordering a stored row breaks the chain at that row. `audit_head` holds the tip: every append
//! updates it first, which takes the row lock and so serialises appends on both backends.

use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::exec::{Tx, sql};
use crate::{Result, Store};

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acts: a signed-in user (with the address the request came from) or a named system actor
/// such as `system:demo` for CLI commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub user_id: Option<Uuid>,
    pub address: Option<String>,
}

impl Actor {
    pub fn user(id: Uuid, address: Option<String>) -> Self {
        Self { id: format!("user:{id}"), user_id: Some(id), address }
    }

    /// The principal a request acts for: its user, and the API token if it came with one, so that
    /// the trail tells what each token did.
    pub fn of(principal: &hamroh_domain::access::Principal, address: Option<String>) -> Self {
        match &principal.token {
            Some(token) => Self {
                id: format!("user:{} token:{}", principal.user_id, token.id),
                user_id: Some(principal.user_id),
                address,
            },
            None => Self::user(principal.user_id, address),
        }
    }

    /// A receiving service without an account, acting through one partner link.
    pub fn partner_link(link_id: Uuid, address: Option<String>) -> Self {
        Self { id: format!("partner-link:{link_id}"), user_id: None, address }
    }

    pub fn system(name: &str) -> Self {
        Self { id: format!("system:{name}"), user_id: None, address: None }
    }
}

/// An event to append. `action` is a verb such as `create`, `read`, `update`, `export`, `login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: Option<String>,
    pub person_id: Option<Uuid>,
    pub outcome: &'static str,
    pub detail: Option<String>,
}

impl NewAuditEvent {
    pub fn ok(action: &'static str, entity: &'static str, entity_id: impl ToString) -> Self {
        Self { action, entity, entity_id: Some(entity_id.to_string()), person_id: None, outcome: "ok", detail: None }
    }

    pub fn person(mut self, person_id: Uuid) -> Self {
        self.person_id = Some(person_id);
        self
    }

    /// One read of the persons a search, a duplicate check or a worklist (`why`) showed, named by
    /// their codes in the detail; [`Store::audit_of_person`] finds it for each of them.
    pub fn shown(why: &str, codes: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let mut detail = why.to_owned();
        for code in codes {
            detail.push(' ');
            detail.push_str(&shown_key(code.as_ref()));
        }
        Self { action: "read", entity: SHOWN, entity_id: None, person_id: None, outcome: "ok", detail: Some(detail) }
    }
}

/// The entity of an event that names the persons a search, a duplicate check or a worklist showed.
pub const SHOWN: &str = "shown";

/// A person code as a search event names it: `HM-7K3Q-9D2F` becomes `7K3Q9D2F`, one word.
pub fn shown_key(code: &str) -> String {
    code.strip_prefix("HM-").unwrap_or(code).chars().filter(|c| *c != '-').collect()
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub person_id: Option<Uuid>,
    pub address: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// The hash this event must carry, given its fields and its predecessor's hash.
    pub fn expected_hash(&self) -> String {
        let fields = serde_json::json!([
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.entity,
            self.entity_id,
            self.person_id.map(|p| p.to_string()),
            self.address,
            self.outcome,
            self.detail,
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(fields.to_string().as_bytes()))
    }
}

/// The chain's tip while a transaction appends to it.
#[derive(Debug)]
pub(crate) struct Chain {
    pub seq: i64,
    pub hash: String,
}

impl Chain {
    pub fn link(&mut self, actor: &Actor, event: &NewAuditEvent, at: i64) -> AuditEvent {
        let mut stored = AuditEvent {
            seq: self.seq + 1,
            at,
            actor: actor.id.clone(),
            action: event.action.to_owned(),
            entity: event.entity.to_owned(),
            entity_id: event.entity_id.clone(),
            person_id: event.person_id,
            address: actor.address.clone(),
            outcome: event.outcome.to_owned(),
            detail: event.detail.clone(),
            prev_hash: std::mem::take(&mut self.hash),
            hash: String::new(),
        };
        stored.hash = stored.expected_hash();
        self.seq = stored.seq;
        self.hash = stored.hash.clone();
        stored
    }
}

/// Appends `events` by `actor` inside the transaction `tx`.
pub(crate) async fn append(tx: &mut Tx, actor: &Actor, events: &[&NewAuditEvent]) -> Result<()> {
    let events: Vec<(&Actor, &NewAuditEvent)> = events.iter().map(|e| (actor, *e)).collect();
    append_each(tx, &events).await
}

/// Appends `events` (each with its actor) inside the transaction `tx`: the head of the chain is
/// locked and read, the events linked to it in order and inserted with one statement, and the new
/// head written.
pub(crate) async fn append_each(tx: &mut Tx, events: &[(&Actor, &NewAuditEvent)]) -> Result<()> {
    let (seq, hash): (i64, String) =
        tx.fetch_one(sql("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")).await?;
    let mut chain = Chain { seq, hash };
    let at = crate::now_millis();
    let linked: Vec<AuditEvent> = events.iter().map(|(actor, event)| chain.link(actor, event, at)).collect();
    if linked.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = linked
        .iter()
        .map(|e| {
            values![
                e.seq,
                e.at,
                &e.actor,
                &e.action,
                &e.entity,
                &e.entity_id,
                e.person_id,
                &e.address,
                &e.outcome,
                &e.detail,
                &e.prev_hash,
                &e.hash
            ]
        })
        .collect();
    tx.insert_rows(&format!("INSERT INTO audit_events ({AUDIT_COLUMNS}) "), rows, "").await?;
    if !tx.concurrent() {
        // SQLite's index of the persons each search showed (PostgreSQL indexes the detail itself).
        let shown: Vec<_> = linked
            .iter()
            .filter(|e| e.entity == SHOWN)
            .filter_map(|e| Some(values![e.seq, e.detail.as_deref()?.split_once(' ').map_or("", |d| d.1)]))
            .collect();
        tx.insert_rows("INSERT INTO audit_shown (rowid, persons) ", shown, "").await?;
    }
    tx.execute(sql("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1").bind(chain.seq).bind(&chain.hash)).await?;
    Ok(())
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditProblem {
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit event {}: {}", self.seq, self.reason)
    }
}

const AUDIT_COLUMNS: &str =
    "seq, at, actor, action, entity, entity_id, person_id, address, outcome, detail, prev_hash, hash";

impl Store {
    /// Appends events outside any other change (log-ins, reads, exports).
    pub async fn audit(&self, actor: &Actor, events: &[NewAuditEvent]) -> Result<()> {
        match &self.group {
            Some(group) if !events.is_empty() => group.audit(actor, events).await,
            _ => self.audit_alone(actor, events).await,
        }
    }

    /// Appends events in a transaction of their own.
    pub(crate) async fn audit_alone(&self, actor: &Actor, events: &[NewAuditEvent]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        append(&mut tx, actor, &events.iter().collect::<Vec<_>>()).await?;
        tx.commit().await
    }

    /// Walks the whole chain. Returns the number of events checked, or the first broken event.
    pub async fn verify_audit(&self) -> Result<std::result::Result<u64, AuditProblem>> {
        const PAGE: i64 = 10_000;
        let mut expected_seq = 1;
        let mut prev = GENESIS.to_owned();
        loop {
            let page = self.audit_page(expected_seq - 1, PAGE).await?;
            for event in &page {
                let problem = |reason: &str| Ok(Err(AuditProblem { seq: event.seq, reason: reason.to_owned() }));
                if event.seq != expected_seq {
                    return problem(&format!("expected event {expected_seq} here: events were removed or renumbered"));
                }
                if event.prev_hash != prev {
                    return problem("does not link to the event before it: events were removed or reordered");
                }
                if event.hash != event.expected_hash() {
                    return problem("its content does not match its hash: the event was altered");
                }
                prev.clone_from(&event.hash);
                expected_seq += 1;
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        let (head_seq, head_hash): (i64, String) = with_pool!(self, pool => {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(pool).await?
        });
        if head_seq != expected_seq - 1 || head_hash != prev {
            return Ok(Err(AuditProblem {
                seq: head_seq,
                reason: format!(
                    "the chain ends at event {} but its head records event {head_seq}: events at the end were removed",
                    expected_seq - 1
                ),
            }));
        }
        Ok(Ok((expected_seq - 1) as u64))
    }

    /// Up to `limit` events after the one numbered `after`, in order.
    pub async fn audit_page(&self, after: i64, limit: i64) -> Result<Vec<AuditEvent>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2");
        Ok(with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(pool).await?
        }))
    }

    /// The audit trail of one person, newest first: the events about them, and the searches that
    /// showed them.
    pub async fn audit_of_person(&self, person_id: Uuid, limit: i64) -> Result<Vec<AuditEvent>> {
        let code: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT code FROM persons WHERE id = $1").bind(person_id).fetch_optional(pool).await?
        });
        let key = shown_key(code.as_deref().unwrap_or_default());
        let about = format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE person_id = $1");
        Ok(match &self.backend {
            crate::Backend::Sqlite(pool) => {
                // A quoted word: the code is matched as it is, never read as query syntax.
                let sql = format!(
                    "{about} UNION ALL SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq IN \
                     (SELECT rowid FROM audit_shown WHERE audit_shown MATCH $2) ORDER BY seq DESC LIMIT $3"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(person_id)
                    .bind(format!("\"{}\"", key.replace('"', "")))
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
            crate::Backend::Postgres(pool) => {
                let sql = format!(
                    "{about} UNION ALL SELECT {AUDIT_COLUMNS} FROM audit_events WHERE entity = 'shown' \
                     AND string_to_array(detail, ' ') @> ARRAY[$2::text] ORDER BY seq DESC LIMIT $3"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(person_id).bind(key).bind(limit).fetch_all(pool).await?
            }
        })
    }

    /// The audit trail of one record that is not a person's (a service, a user), newest first.
    pub async fn audit_of_entity(&self, entity: &str, entity_id: &str, limit: i64) -> Result<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE entity = $1 AND entity_id = $2 ORDER BY seq DESC LIMIT $3"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(entity).bind(entity_id).bind(limit).fetch_all(pool).await?
        }))
    }

    /// The chain's length.
    pub async fn audit_len(&self) -> Result<i64> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1").fetch_one(pool).await?
        }))
    }
}
