//! Idempotency keys: the first answer to a keyed request is kept, and a retry with the same key
//! gets it again instead of running twice.
//!
//! A key is claimed in memory while its request runs (a second request with the key is told it is
//! in progress); its row is written inside the request's first write transaction, marked written,
//! and completed with the answer. So a keyed write costs two commits (records, answer), and a keyed
//! request that writes nothing one. The row carries the claim of the request that wrote it, so
//! that two servers sharing a PostgreSQL database cannot both write for one key: the second
//! request's write fails and nothing of it is kept.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::exec::{Tx, sql};
use crate::group_commit::KeyStep;
use crate::{Result, Store};

/// A running keyed request: who sent it, its key, what it asks, and the claim that marks its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRequest {
    pub caller: String,
    pub key: String,
    pub method: String,
    pub path: String,
    /// SHA-256 of the request's body: a retry must send the same body.
    pub body_hash: Vec<u8>,
    pub claim: String,
}

tokio::task_local! {
    /// The keyed request the current task answers; every write transaction it makes records
    /// that it wrote.
    static REQUEST_KEY: KeyedRequest;
}

/// The keyed request the current task answers, if any.
pub fn current() -> Option<KeyedRequest> {
    REQUEST_KEY.try_with(Clone::clone).ok()
}

/// Keys whose requests are running in this process.
#[derive(Debug, Clone, Default)]
pub(crate) struct Claims(Arc<Mutex<HashSet<(String, String)>>>);

impl Claims {
    fn take(&self, caller: &str, key: &str) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert((caller.to_owned(), key.to_owned()))
    }

    fn release(&self, caller: &str, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&(caller.to_owned(), key.to_owned()));
    }
}

/// A key held by a running request; dropping it (the request ends, however) frees the key.
#[derive(Debug)]
pub struct KeyClaim {
    claims: Claims,
    request: KeyedRequest,
}

impl KeyClaim {
    /// Runs `work` as the keyed request, so that its writes record the key.
    pub async fn run<F: std::future::Future>(&self, work: F) -> F::Output {
        keyed(self.request.clone(), work).await
    }
}

/// Runs `work` as the keyed request `request`.
pub(crate) async fn keyed<F: std::future::Future>(request: KeyedRequest, work: F) -> F::Output {
    REQUEST_KEY.scope(request, work).await
}

impl Drop for KeyClaim {
    fn drop(&mut self) {
        self.claims.release(&self.request.caller, &self.request.key);
    }
}

/// What a keyed request finds.
#[derive(Debug)]
pub enum Begin {
    /// The key is new: run the request under the claim, then [`Store::idempotency_finish`] (or
    /// drop the claim to forget a request that failed before writing).
    Run(KeyClaim),
    /// The same key is being answered right now.
    InProgress,
    /// The key's request wrote, but its answer was never kept (the process stopped in between).
    WrittenAnswerLost,
    /// The key was used for another method, path or body.
    Mismatch,
    /// The key was answered: the status, content type and body to send again.
    Replay { status: u16, content_type: Option<String>, location: Option<String>, body: Vec<u8> },
}

/// Carries out a [`KeyStep`] inside the transaction `tx`; the rows it changed.
pub(crate) async fn key_step(tx: &mut Tx, step: &KeyStep) -> Result<u64> {
    match step {
        KeyStep::Answer { request, status, content_type, location, body } => {
            tx.execute(
                sql(
                    "INSERT INTO idempotency_keys (caller, key, method, path, claim, created_at, status, content_type, \
                     body, location, body_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     ON CONFLICT (caller, key) DO UPDATE SET status = excluded.status, \
                     content_type = excluded.content_type, body = excluded.body, location = excluded.location \
                     WHERE idempotency_keys.claim = excluded.claim",
                )
                .bind(&request.caller)
                .bind(&request.key)
                .bind(&request.method)
                .bind(&request.path)
                .bind(&request.claim)
                .bind(crate::now_millis())
                .bind(i64::from(*status))
                .bind(content_type)
                .bind(body)
                .bind(location)
                .bind(&request.body_hash),
            )
            .await
        }
    }
}

/// Records, inside the transaction `tx`, that the keyed requests `requests` (each once) have
/// written: their rows are inserted, or marked if their own request inserted them before. A row
/// held by another claim is a conflict, which the caller's `?` turns into a rollback.
///
/// Only the transaction that makes a keyed request's own change calls this (an audited read does
/// not: a key marked by one would tell a retry that a write was carried out that never was).
pub(crate) async fn mark_written(tx: &mut Tx, requests: &[&KeyedRequest]) -> Result<()> {
    let now = crate::now_millis();
    let rows =
        requests.iter().map(|r| values![&r.caller, &r.key, &r.method, &r.path, &r.body_hash, &r.claim, now, now]);
    let changed = tx
        .insert_rows(
            "INSERT INTO idempotency_keys (caller, key, method, path, body_hash, claim, created_at, written_at) ",
            rows,
            " ON CONFLICT (caller, key) DO UPDATE SET written_at = excluded.written_at \
             WHERE idempotency_keys.claim = excluded.claim",
        )
        .await?;
    if changed != requests.len() as u64 {
        return Err(crate::StoreError::Conflict(
            "a request with this Idempotency-Key is being answered elsewhere".into(),
        ));
    }
    Ok(())
}

/// Marks the keyed request the current task answers (if any) as written, inside `tx`: the call
/// every state-changing transaction makes, next to the change it records.
pub(crate) async fn mark_request_written(tx: &mut Tx) -> Result<()> {
    match current() {
        Some(request) => mark_written(tx, &[&request]).await,
        None => Ok(()),
    }
}

impl Store {
    /// Shares a commit for a key step (through group commit when it runs).
    async fn key_step(&self, step: KeyStep) -> Result<u64> {
        match &self.group {
            Some(group) => group.key_step(step).await,
            None => {
                let mut tx = self.begin_write().await?;
                let changed = key_step(&mut tx, &step).await?;
                tx.commit().await?;
                Ok(changed)
            }
        }
    }

    /// Starts a keyed request: `body_hash` is the SHA-256 of its body, which a retry must repeat.
    pub async fn idempotency_begin(
        &self,
        caller: &str,
        key: &str,
        method: &str,
        path: &str,
        body_hash: &[u8],
    ) -> Result<Begin> {
        // Claimed before the row is read: a request that finds no row then runs alone until it
        // has kept its answer, so nobody can read "no row" between its answer and its release.
        if !self.claims.take(caller, key) {
            return Ok(Begin::InProgress);
        }
        let claim = KeyClaim {
            claims: self.claims.clone(),
            request: KeyedRequest {
                caller: caller.into(),
                key: key.into(),
                method: method.into(),
                path: path.into(),
                body_hash: body_hash.to_vec(),
                claim: uuid::Uuid::new_v4().to_string(),
            },
        };
        type Row = (
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<Vec<u8>>,
            Option<i64>,
            Option<String>,
            Option<Vec<u8>>,
        );
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as("SELECT method, path, status, content_type, body, written_at, location, body_hash FROM idempotency_keys WHERE caller = $1 AND key = $2")
                .bind(caller)
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(match row {
            None => Begin::Run(claim),
            // Rows kept before bodies were hashed are compared by method and path alone.
            Some((m, p, _, _, _, _, _, hash))
                if m != method || p != path || hash.as_deref().is_some_and(|h| h != body_hash) =>
            {
                Begin::Mismatch
            }
            // Another server's request holds the key (or held it and stopped before writing).
            Some((_, _, None, _, _, None, _, _)) => Begin::InProgress,
            Some((_, _, None, _, _, Some(_), _, _)) => Begin::WrittenAnswerLost,
            Some((_, _, Some(status), content_type, body, _, location, _)) => {
                Begin::Replay { status: status as u16, content_type, location, body: body.unwrap_or_default() }
            }
        })
    }

    /// Keeps the answer to a keyed request, then frees its key.
    pub async fn idempotency_finish(
        &self,
        claim: KeyClaim,
        status: u16,
        content_type: Option<&str>,
        location: Option<&str>,
        body: &[u8],
    ) -> Result<()> {
        let answer = KeyStep::Answer {
            request: claim.request.clone(),
            status,
            content_type: content_type.map(str::to_owned),
            location: location.map(str::to_owned),
            body: body.to_vec(),
        };
        self.key_step(answer).await.map(drop)
    }

    /// At start-up, when no request can be running: keys whose request never wrote are released,
    /// so that a retry runs again. Returns how many.
    pub async fn idempotency_release_unwritten(&self) -> Result<u64> {
        Ok(with_pool!(self, pool => {
            sqlx::query("DELETE FROM idempotency_keys WHERE status IS NULL AND written_at IS NULL")
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
