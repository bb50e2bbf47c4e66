//! Online backup of an SQLite database: `VACUUM INTO` writes a consistent copy (one read
//! transaction) while the server keeps serving; a restore checks the copy before it takes the
//! place of a database. PostgreSQL has its own tools (pg_dump); the README says how.

use std::path::Path;

use crate::{Backend, DbUrl, Result, Store, StoreError};

impl Store {
    /// Writes a consistent copy of the SQLite database to `target`, which must not exist yet.
    pub async fn backup_to(&self, target: &Path) -> Result<()> {
        let Backend::Sqlite(pool) = &self.backend else {
            return Err(StoreError::Refused {
                code: "backup_postgres",
                message: "for PostgreSQL use pg_dump (see the README)".into(),
            });
        };
        if target.exists() {
            return Err(StoreError::Unwritable(format!("{}: already exists; choose a new file", target.display())));
        }
        let text = target.to_str().ok_or_else(|| StoreError::Unwritable("the backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1").bind(text).execute(pool).await?;
        Ok(())
    }
}

/// Checks a backup file (SQLite integrity, schema, audit chain) and copies it to `target`, an
/// SQLite path that must not hold a database yet. Returns the number of audit events verified.
pub async fn restore(backup: &Path, target: &Path) -> Result<u64> {
    if !backup.is_file() {
        return Err(StoreError::Unwritable(format!("{}: no such backup file", backup.display())));
    }
    if target.exists() {
        return Err(StoreError::Unwritable(format!(
            "{}: a database is already there; restore into a new path",
            target.display()
        )));
    }
    // Check a private copy first, so that a bad backup never becomes the database.
    let staging = target.with_extension("restoring");
    std::fs::copy(backup, &staging).map_err(|e| StoreError::Unwritable(format!("{}: {e}", staging.display())))?;
    let checked = async {
        let store = Store::open(&DbUrl::Sqlite(staging.clone())).await?;
        let Backend::Sqlite(pool) = &store.backend else { unreachable!("opened as SQLite") };
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool).await?;
        if integrity != "ok" {
            return Err(StoreError::Corrupt(format!("the backup fails its integrity check: {integrity}")));
        }
        let verified = store.verify_audit().await?.map_err(|p| StoreError::Corrupt(format!("audit chain: {p}")))?;
        store.close().await;
        Ok(verified)
    }
    .await;
    match checked {
        Ok(n) => {
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
            }
            std::fs::rename(&staging, target)
                .map_err(|e| StoreError::Unwritable(format!("{}: {e}", target.display())))?;
            Ok(n)
        }
        Err(e) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
            }
            Err(e)
        }
    }
}
