//! When sessions and API tokens were last used, kept in memory and written in the background.
//! A request only notes the time: no request waits for, or fails on, a bookkeeping write, which
//! would otherwise queue behind the writer at the minute mark of every busy credential.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

use crate::exec::sql;
use crate::{Result, Store};

/// The last-use times noted since the last flush.
#[derive(Debug, Default, Clone)]
pub(crate) struct Pending(Arc<Mutex<Times>>);

#[derive(Debug, Default)]
struct Times {
    /// Session token hash → last seen.
    sessions: HashMap<Vec<u8>, i64>,
    /// API token id → last used.
    tokens: HashMap<Uuid, i64>,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, Times> {
        // The map holds only times: a panic elsewhere cannot leave it inconsistent.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn session_seen(&self, token_hash: &[u8], at: i64) {
        let mut t = self.lock();
        let seen = t.sessions.entry(token_hash.to_vec()).or_insert(at);
        *seen = (*seen).max(at);
    }

    /// The session's last-seen time noted here and not yet written, if any.
    pub(crate) fn session_last_seen(&self, token_hash: &[u8]) -> Option<i64> {
        self.lock().sessions.get(token_hash).copied()
    }

    pub(crate) fn token_used(&self, token_id: Uuid, at: i64) {
        let mut t = self.lock();
        let used = t.tokens.entry(token_id).or_insert(at);
        *used = (*used).max(at);
    }

    fn take(&self) -> Times {
        std::mem::take(&mut *self.lock())
    }

    /// Puts back times a failed flush did not write, keeping any later ones noted meanwhile.
    fn restore(&self, times: Times) {
        let mut t = self.lock();
        for (k, v) in times.sessions {
            let e = t.sessions.entry(k).or_insert(v);
            *e = (*e).max(v);
        }
        for (k, v) in times.tokens {
            let e = t.tokens.entry(k).or_insert(v);
            *e = (*e).max(v);
        }
    }
}

impl Store {
    /// Writes the last-use times noted since the last flush, in one transaction; a time never
    /// moves back. On failure the times are kept for the next flush. Returns how many rows it
    /// wrote. `serve` calls it every few seconds and at shutdown.
    pub async fn flush_bookkeeping(&self) -> Result<usize> {
        let times = self.bookkeeping.take();
        let count = times.sessions.len() + times.tokens.len();
        if count == 0 {
            return Ok(0);
        }
        match self.write_times(&times).await {
            Ok(()) => Ok(count),
            Err(e) => {
                self.bookkeeping.restore(times);
                Err(e)
            }
        }
    }

    async fn write_times(&self, times: &Times) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for (hash, at) in &times.sessions {
            let update = sql("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1");
            tx.execute(update.bind(at).bind(hash)).await?;
        }
        for (id, at) in &times.tokens {
            let update = sql(
                "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
            );
            tx.execute(update.bind(at).bind(id)).await?;
        }
        tx.commit().await
    }
}
