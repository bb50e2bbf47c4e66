//! `Idempotency-Key` on state-changing API requests: a retry after a lost reply gets the first
//! answer again and writes nothing twice. Keys belong to the credential they came with (the hash
//! of the session cookie or bearer token), so nobody can replay another caller's answer.
//!
//! The request's writes record in their own transactions that the key has written. If the process
//! dies before the answer is kept, the next start releases keys whose request never wrote (a retry
//! runs again) and a retry of one that did is told so (409 `idempotency_answer_lost`): nothing is
//! written twice, and nothing waits forever.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hamroh_store::idempotency::Begin;

use crate::AppState;
use crate::error::WebError;

/// The largest answer kept for replay.
const MAX_BODY: usize = 8 * 1024 * 1024;

fn caller_of(req: &Request) -> Option<String> {
    let headers = req.headers();
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').map(str::trim).find(|p| p.starts_with("hamroh_session=")));
    bearer.or(cookie).map(|credential| hex::encode(crate::session::token_hash(credential)))
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE) {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get("idempotency-key") else { return next.run(req).await };
    let key = match key.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_owned(),
        _ => {
            return WebError::BadRequest {
                code: "invalid_idempotency_key",
                message: "Idempotency-Key: 1 to 255 visible ASCII characters".into(),
            }
            .into_response();
        }
    };
    let Some(caller) = caller_of(&req) else { return next.run(req).await };
    let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
    let store = &state.store;
    match store.idempotency_begin(&caller, &key, &method, &path).await {
        Err(e) => WebError::from(e).into_response(),
        Ok(Begin::InProgress) => WebError::Conflict {
            code: "idempotency_in_progress",
            message: "a request with this Idempotency-Key is still being answered; retry shortly".into(),
        }
        .into_response(),
        Ok(Begin::WrittenAnswerLost) => WebError::Conflict {
            code: "idempotency_answer_lost",
            message: "the request with this Idempotency-Key was carried out, but its answer was lost in a restart; \
                      read the record instead of sending it again"
                .into(),
        }
        .into_response(),
        Ok(Begin::Mismatch) => WebError::Invalid {
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was used for another request; use a new key".into(),
        }
        .into_response(),
        Ok(Begin::Replay { status, content_type, body }) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Begin::Run) => {
            let response = hamroh_store::idempotency::keyed(caller.clone(), key.clone(), next.run(req)).await;
            let (parts, body) = response.into_parts();
            let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
                let _ = store.idempotency_abandon(&caller, &key).await;
                return WebError::Internal("an answer too large to keep".into()).into_response();
            };
            let kept = if parts.status.is_server_error() {
                store.idempotency_abandon(&caller, &key).await
            } else {
                let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
                store.idempotency_finish(&caller, &key, parts.status.as_u16(), content_type, &bytes).await
            };
            if let Err(e) = kept {
                tracing::error!(error = %e, "could not keep an idempotent answer");
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}
