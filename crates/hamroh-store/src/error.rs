//! The store's error type. Callers map `InvalidUrl`, `Unreachable` and `Unwritable` to a one-line
//! message and exit code 2; `Conflict` and `NotFound` to 409/404; anything else is a server fault.

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
    /// The request is understood but refused by a rule; `code` names the rule (a Fluent id).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
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
