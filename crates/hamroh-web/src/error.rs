//! The one error type of the web layer.
//!
//! Policy: handlers return `WebError`. Bad input is a 4xx whose body is
//! `{"error": {"code": ..., "message": ...}}` with a stable snake_case code (also the Fluent message
//! id a page shows), never a 500. A store fault is logged without personal data and answered with
//! 500, or 503 when the database cannot be reached.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hamroh_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404: the thing asked for does not exist (or may not be seen: the same answer).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 400: the request itself is malformed (not JSON, wrong shape).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no session and no valid API token.
    #[error("{message}")]
    Unauthenticated { message: String },
    /// 403: signed in, but the role (or token scope) does not allow this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 409: the request conflicts with the current state (a taken username, an illegal transition).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 429: too many failed attempts; try again later.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_secs: u64 },
    /// 413: the body is larger than the route reads.
    #[error("{message}")]
    PayloadTooLarge { message: String },
    /// 415: the body is not of the content type the route takes.
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// 422: well-formed, but the values are not acceptable.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// 503: the database met an I/O error (on a write, an fsync error: nothing was stored).
    #[error("the database could not read or write its disk (an I/O error); nothing was stored; try again shortly")]
    WriteFailed,
    /// 503: another writer held the database too long; nothing was stored.
    #[error("the database is busy with other work and nothing was stored; try again shortly")]
    Busy,
    /// 507: the disk or database is full; nothing was stored, reading still works.
    #[error("the database is full: nothing was stored; records can still be read. Tell the administrator")]
    StorageFull,
    #[error("internal error")]
    Internal(String),
}

impl From<hamroh_domain::referral::StepError> for WebError {
    fn from(e: hamroh_domain::referral::StepError) -> Self {
        Self::Invalid { code: "invalid_step", message: e.to_string() }
    }
}

/// The code of an error answer, kept in the response's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub &'static str);

/// The body of every error answer of the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable snake_case code, e.g. `invalid_answers`.
    pub code: String,
    /// What went wrong, for a person to read.
    pub message: String,
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(),
            StoreError::Conflict(message) => Self::Conflict { code: "conflict", message },
            StoreError::Forbidden(message) => Self::Forbidden { code: "forbidden", message },
            // An illegal step is a conflict with the referral's state; other refusals are invalid input.
            StoreError::Refused { code: "referral_illegal_step", message } => {
                Self::Conflict { code: "referral_illegal_step", message }
            }
            // A consent the person withdrew is a permission the caller no longer has.
            StoreError::Refused { code: "consent_withdrawn", message } => {
                Self::Forbidden { code: "consent_withdrawn", message }
            }
            StoreError::Refused { code, message } => Self::Invalid { code, message },
            StoreError::Unreachable(_) => Self::Unavailable,
            StoreError::StorageFull(detail) => {
                tracing::error!(error = %detail, "write refused: the database is full");
                Self::StorageFull
            }
            StoreError::StorageFailed(detail) => {
                tracing::error!(error = %detail, "write failed: the database could not write to disk");
                Self::WriteFailed
            }
            StoreError::Busy(detail) => {
                tracing::warn!(error = %detail, "write gave up waiting for the database");
                Self::Busy
            }
            StoreError::Database(e) if is_connection_error(&e) => Self::Unavailable,
            other => Self::Internal(other.to_string()),
        }
    }
}

fn is_connection_error(e: &hamroh_store::SqlxError) -> bool {
    matches!(
        e,
        hamroh_store::SqlxError::Io(_) | hamroh_store::SqlxError::PoolTimedOut | hamroh_store::SqlxError::PoolClosed
    )
}

impl WebError {
    pub fn not_found() -> Self {
        Self::NotFound { code: "not_found", message: "not found".into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable | Self::WriteFailed | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { code, .. }
            | Self::BadRequest { code, .. }
            | Self::Invalid { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. } => code,
            Self::Unauthenticated { .. } => "unauthenticated",
            Self::TooManyRequests { .. } => "too_many_attempts",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Unavailable => "unavailable",
            Self::WriteFailed => "write_failed",
            Self::Busy => "busy",
            Self::StorageFull => "storage_full",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            // Store errors carry no personal data: values are bound, never formatted into SQL.
            tracing::error!(error = %detail, "request failed");
        }
        let retry = match &self {
            Self::TooManyRequests { retry_after_secs, .. } => Some(*retry_after_secs),
            Self::Busy => Some(2),
            _ => None,
        };
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message: self.to_string() } };
        let mut response = (self.status(), Json(body)).into_response();
        // For the pages' error layer, which shows a localised page instead of this JSON.
        response.extensions_mut().insert(ErrorCode(self.code()));
        if let Some(secs) = retry {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_answers_503_with_a_time_to_try_again() {
        let response = WebError::from(StoreError::Busy("database is locked".into())).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "2");
    }
}
