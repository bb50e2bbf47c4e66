//! The one error type of the web layer.
//!
//! Policy: handlers return `WebError`. Bad input is a 4xx whose body is
//! `{"error": {"code": ..., "message": ...}}` with a stable snake_case code (also the Fluent message
//! id a page shows), never a 500. A store fault is logged without personal data and answered with
//! 500, or 503 when the database cannot be reached.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use hamroh_store::StoreError;
use serde::Serialize;

use crate::i18n::Tr;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404: the thing asked for does not exist (or may not be seen: the same answer).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 400: the request itself is malformed (not JSON, wrong shape).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 415: the body is not of the content type the route takes.
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// 422: well-formed, but the values are not acceptable.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

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
            StoreError::NotFound => Self::NotFound { code: "not_found", message: "not found".into() },
            StoreError::Unreachable(_) => Self::Unavailable,
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
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { code, .. } | Self::BadRequest { code, .. } | Self::Invalid { code, .. } => code,
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::Unavailable => "unavailable",
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
        let body = ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message: self.to_string() } };
        (self.status(), Json(body)).into_response()
    }
}

/// An error page in the viewer's language.
pub fn error_page(tr: &Tr, status: StatusCode, message_id: &str) -> Response {
    let page = crate::pages::ErrorPage {
        t: tr.clone(),
        css: crate::assets::css_url(),
        langs: crate::pages::LANGS,
        user: None,
        message: tr.get(message_id),
    };
    (status, Html(askama::Template::render(&page).unwrap_or_default())).into_response()
}
