//! Idempotency keys: the first answer to a keyed request is kept, and a retry with the same key
//! gets it again instead of running twice.

use crate::group_commit::KeyStep;
use crate::{Result, Store};

tokio::task_local! {
    /// The keyed request (caller, key) the current task answers; every write transaction it makes
    /// records that it wrote.
    static REQUEST_KEY: (String, String);
}

/// Runs `work` as the keyed request `caller`/`key`.
pub async fn keyed<F: std::future::Future>(caller: String, key: String, work: F) -> F::Output {
    REQUEST_KEY.scope((caller, key), work).await
}

/// The keyed request the current task answers, if any.
pub fn current() -> Option<(String, String)> {
    REQUEST_KEY.try_with(Clone::clone).ok()
}

/// What a keyed request finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The key is new: run the request, then [`Store::idempotency_finish`] or `_abandon`.
    Run,
    /// The same key is being answered right now.
    InProgress,
    /// The key's request wrote, but its answer was never kept (the process stopped in between).
    WrittenAnswerLost,
    /// The key was used for another method or path.
    Mismatch,
    /// The key was answered: the status, content type and body to send again.
    Replay { status: u16, content_type: Option<String>, location: Option<String>, body: Vec<u8> },
}

/// Carries out a [`KeyStep`] inside the transaction `$tx`; evaluates to the rows it changed.
macro_rules! key_step {
    ($tx:ident, $step:expr) => {
        match $step {
            $crate::group_commit::KeyStep::Claim { caller, key, method, path } => sqlx::query(
                "INSERT INTO idempotency_keys (caller, key, method, path, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (caller, key) DO NOTHING",
            )
            .bind(caller)
            .bind(key)
            .bind(method)
            .bind(path)
            .bind($crate::now_millis())
            .execute(&mut *$tx)
            .await?
            .rows_affected(),
            $crate::group_commit::KeyStep::Answer { caller, key, status, content_type, location, body } => sqlx::query(
                "UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3, location = $6 \
                     WHERE caller = $4 AND key = $5",
            )
            .bind(i64::from(*status))
            .bind(content_type)
            .bind(body)
            .bind(caller)
            .bind(key)
            .bind(location)
            .execute(&mut *$tx)
            .await?
            .rows_affected(),
        }
    };
}

impl Store {
    /// Claims or shares a commit for a key step (through group commit when it runs).
    async fn key_step(&self, step: KeyStep) -> Result<u64> {
        match &self.group {
            Some(group) => group.key_step(step).await,
            None => Ok(write_tx!(self, tx => { key_step!(tx, &step) })),
        }
    }

    pub async fn idempotency_begin(&self, caller: &str, key: &str, method: &str, path: &str) -> Result<Begin> {
        let claim = KeyStep::Claim { caller: caller.into(), key: key.into(), method: method.into(), path: path.into() };
        if self.key_step(claim).await? == 1 {
            return Ok(Begin::Run);
        }
        type Row = (String, String, Option<i64>, Option<String>, Option<Vec<u8>>, Option<i64>, Option<String>);
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as("SELECT method, path, status, content_type, body, written_at, location FROM idempotency_keys WHERE caller = $1 AND key = $2")
                .bind(caller)
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(match row {
            // Abandoned between the two statements: try again as new.
            None => Box::pin(self.idempotency_begin(caller, key, method, path)).await?,
            Some((m, p, _, _, _, _, _)) if m != method || p != path => Begin::Mismatch,
            Some((_, _, None, _, _, None, _)) => Begin::InProgress,
            Some((_, _, None, _, _, Some(_), _)) => Begin::WrittenAnswerLost,
            Some((_, _, Some(status), content_type, body, _, location)) => {
                Begin::Replay { status: status as u16, content_type, location, body: body.unwrap_or_default() }
            }
        })
    }

    pub async fn idempotency_finish(
        &self,
        caller: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        location: Option<&str>,
        body: &[u8],
    ) -> Result<()> {
        let answer = KeyStep::Answer {
            caller: caller.into(),
            key: key.into(),
            status,
            content_type: content_type.map(str::to_owned),
            location: location.map(str::to_owned),
            body: body.to_vec(),
        };
        self.key_step(answer).await.map(drop)
    }

    /// Forgets a key whose request failed on our side before writing, so that a retry runs again;
    /// a key whose request wrote is kept, so that a retry cannot write twice.
    pub async fn idempotency_abandon(&self, caller: &str, key: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND status IS NULL AND written_at IS NULL")
                .bind(caller)
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
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
