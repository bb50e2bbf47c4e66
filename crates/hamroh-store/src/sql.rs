//! The two macros that let one SQL text serve both pools. The body is compiled once per backend;
//! `$n` placeholders work on both drivers.

/// Runs `$body` with `$pool` bound to the backend's pool.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` inside a write transaction bound to `$tx` and commits it; an early return through
/// `?` drops the transaction, which rolls it back. SQLite transactions begin IMMEDIATE so that two
/// writers queue on the lock instead of failing on a read-to-write upgrade.
/// Records, inside the transaction `$tx`, that the keyed request `$key` (caller, key) has written.
macro_rules! mark_written {
    ($tx:ident, $key:expr) => {
        if let Some((caller, key)) = $key {
            sqlx::query("UPDATE idempotency_keys SET written_at = $1 WHERE caller = $2 AND key = $3")
                .bind($crate::now_millis())
                .bind(caller)
                .bind(key)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

macro_rules! write_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                mark_written!($tx, $crate::idempotency::current());
                $tx.commit().await?;
                out
            }
            $crate::Backend::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                mark_written!($tx, $crate::idempotency::current());
                $tx.commit().await?;
                out
            }
        }
    };
}
