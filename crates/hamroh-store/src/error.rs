//! The store's error type. Callers map `InvalidUrl`, `Unreachable` and `Unwritable` to a one-line
//! message and exit code 2; `Conflict`, `Forbidden` and `NotFound` to 409/403/404; anything else is a server fault.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("invalid database URL {0}")]
    InvalidUrl(String),
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
    #[error("cannot write the database file: {0}")]
    Unwritable(String),
    #[error("database schema migration failed: {0}")]
    Migration(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// The principal's role or token scope does not allow this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request is understood but refused by a rule; `code` names the rule (a Fluent id).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The disk (or the database's size limit) is full: nothing was written.
    #[error("the database is full: {0}")]
    StorageFull(String),
    /// Writing to disk failed (an I/O or fsync error): nothing was acknowledged.
    #[error("the database could not write to disk: {0}")]
    StorageFailed(String),
    /// Another writer held the database for longer than a write may wait (SQLite's busy timeout),
    /// or PostgreSQL gave the transaction up to a deadlock or a lock timeout: nothing was written,
    /// and trying again is right.
    #[error("the database is busy: {0}")]
    Busy(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    /// Disk full and I/O failures are told apart from other database errors, so that callers can
    /// answer 507 or 503 instead of a bare server error.
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // SQLite primary result codes (the extended code's low byte): 13 full, 10 I/O error.
            // PostgreSQL SQLSTATEs: 53100 disk_full, 58030 io_error.
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let sqlite_primary = code.parse::<i64>().ok().map(|c| c & 0xff);
            if sqlite_primary == Some(13) || code == "53100" {
                return Self::StorageFull(db.message().to_owned());
            }
            if sqlite_primary == Some(10) || code == "58030" {
                return Self::StorageFailed(db.message().to_owned());
            }
            // SQLite 5 busy, 6 locked; PostgreSQL 40001 serialization failure, 40P01 deadlock,
            // 55P03 lock not available.
            if matches!(sqlite_primary, Some(5 | 6)) || matches!(code.as_str(), "40001" | "40P01" | "55P03") {
                return Self::Busy(db.message().to_owned());
            }
        }
        if let sqlx::Error::Io(io) = &e {
            return Self::StorageFailed(io.to_string());
        }
        Self::Database(e)
    }
}

impl StoreError {
    /// Whether this is a unique violation, on whatever key.
    pub(crate) fn is_unique_violation(&self) -> bool {
        let Self::Database(e) = self else { return false };
        e.as_database_error().is_some_and(|db| db.is_unique_violation())
    }

    /// Whether this is a unique violation on `table.column`: SQLite names the column in its
    /// message, PostgreSQL names the constraint (`table_column_key` for an inline UNIQUE).
    pub(crate) fn is_unique_violation_on(&self, table: &str, column: &str) -> bool {
        let Self::Database(e) = self else { return false };
        let Some(db) = e.as_database_error() else { return false };
        db.is_unique_violation()
            && (db.constraint() == Some(format!("{table}_{column}_key").as_str())
                || db.message().contains(&format!("{table}.{column}")))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migration(e.to_string())
    }
}

impl From<hamroh_domain::code::UnknownCode> for StoreError {
    fn from(e: hamroh_domain::code::UnknownCode) -> Self {
        Self::Corrupt(e.to_string())
    }
}

impl From<hamroh_domain::person::ValueError> for StoreError {
    fn from(e: hamroh_domain::person::ValueError) -> Self {
        Self::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
