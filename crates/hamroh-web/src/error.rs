//! The one error type of the web layer.
//!
//! Policy: handlers return `WebError`; bad input is a 4xx with a stable snake_case code (which is
//! also the Fluent message id shown to people), never a 500. A store fault is logged without
//! personal data and answered with 500 (or 503 when the database cannot be reached).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use hamroh_store::StoreError;

use crate::i18n::Tr;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("database unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            StoreError::Unreachable(_) => Self::Unavailable,
            StoreError::Database(e) if is_connection_error(&e) => Self::Unavailable,
            other => Self::Internal(other.to_string()),
        }
    }
}

fn is_connection_error(e: &hamroh_store::SqlxError) -> bool {
    matches!(
        e,
        hamroh_store::SqlxError::Io(_)
            | hamroh_store::SqlxError::PoolTimedOut
            | hamroh_store::SqlxError::PoolClosed
    )
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
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
        (self.status(), Json(serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } })))
            .into_response()
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
    (
        status,
        Html(askama::Template::render(&page).unwrap_or_default()),
    )
        .into_response()
}
