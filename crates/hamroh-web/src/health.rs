//! `GET /healthz`: 200 when the database answers within two seconds, 503 otherwise.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = state.store.backend_name();
    match tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ok", "database": backend }))),
        _ => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "database": backend }))),
    }
}
