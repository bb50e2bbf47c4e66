//! `Idempotency-Key` on state-changing API requests: a retry after a lost reply gets the first
//! answer again and writes nothing twice. Keys belong to the credential they came with (the hash
//! of the session cookie or bearer token), so nobody can replay another caller's answer.
//!
//! The key is held in memory while its request runs; the request's writes record the key in their
//! own transactions, and the answer is kept after. If the process dies before the answer is kept,
//! a retry of a request that never wrote runs again, and a retry of one that did is told so (409
//! `idempotency_answer_lost`): nothing is written twice, and nothing waits forever.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hamroh_store::idempotency::Begin;
use sha2::{Digest, Sha256};

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

/// The form field that carries a form's key (every rendered form gets one; see [`forms_carry_keys`]).
const FORM_FIELD: &str = "idempotency_key";

/// The largest form body read to find its key.
const MAX_FORM: usize = 1024 * 1024;

/// The largest keyed API body read to hash it (a FHIR Bundle of responses can be large).
const MAX_KEYED_BODY: usize = 16 * 1024 * 1024;

/// Whether reading a body failed because it was larger than the limit (not because it stalled).
fn too_large(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// A keyed request: its key and the SHA-256 of its body.
struct Keyed {
    key: String,
    body_hash: Vec<u8>,
}

/// The key of a request: the `Idempotency-Key` header, or a form post's `idempotency_key` field,
/// with the hash of the body it came with. The request is given back whole (its body is read and
/// put back).
async fn key_of(req: Request) -> Result<(Request, Option<Keyed>), Response> {
    let header_key = req.headers().get("idempotency-key").map(|k| k.to_str().unwrap_or_default().to_owned());
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if header_key.is_none() && !is_form {
        return Ok((req, None));
    }
    let limit = if header_key.is_some() { MAX_KEYED_BODY } else { MAX_FORM };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(e) if too_large(&e) => {
            let message = format!("the body is larger than {limit} bytes");
            return Err(WebError::PayloadTooLarge { message }.into_response());
        }
        Err(_) => {
            let message = "the body could not be read: it stalled or the connection broke".into();
            return Err(WebError::BadRequest { code: "body_unreadable", message }.into_response());
        }
    };
    let key = header_key
        .or_else(|| form_urlencoded::parse(&bytes).find(|(name, _)| name == FORM_FIELD).map(|(_, v)| v.into_owned()));
    let keyed = key.map(|key| Keyed { key, body_hash: Sha256::digest(&bytes).to_vec() });
    Ok((Request::from_parts(parts, Body::from(bytes)), keyed))
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE) {
        return next.run(req).await;
    }
    let (req, key) = match key_of(req).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let Some(Keyed { key, body_hash }) = key else { return next.run(req).await };
    let key = match key {
        k if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => k,
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
    match store.idempotency_begin(&caller, &key, &method, &path, &body_hash).await {
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
            message: "this Idempotency-Key was used for another request (another path or body); use a new key".into(),
        }
        .into_response(),
        Ok(Begin::Replay { status, content_type, location, body }) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            if let Some(to) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                response.headers_mut().insert(header::LOCATION, to);
            }
            response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Begin::Run(claim)) => {
            let response = claim.run(next.run(req)).await;
            let (parts, body) = response.into_parts();
            let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
                return WebError::Internal("an answer too large to keep".into()).into_response();
            };
            // A failure on our side is not kept: if the request wrote nothing, a retry runs again
            // (dropping the claim frees the key); if it wrote, a retry is told so.
            if !parts.status.is_server_error() {
                let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
                let location = parts.headers.get(header::LOCATION).and_then(|v| v.to_str().ok());
                let kept = store.idempotency_finish(claim, parts.status.as_u16(), content_type, location, &bytes).await;
                if let Err(e) = kept {
                    tracing::error!(error = %e, "could not keep an idempotent answer");
                }
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}

/// Gives every `<form method="post">` of an HTML page a hidden `idempotency_key` field with a
/// fresh key, so that posting the same rendered form twice (a double click, a retry after a lost
/// answer) is carried out once.
pub async fn forms_carry_keys(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return WebError::Internal("a page too large".into()).into_response();
    };
    let html = String::from_utf8_lossy(&bytes);
    let keyed = with_form_keys(&html);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(keyed))
}

fn with_form_keys(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let Some(end) = rest[start..].find('>').map(|e| start + e + 1) else { break };
        out.push_str(&rest[..end]);
        if rest[start..end].contains(r#"method="post""#) {
            out.push_str(&format!(r#"<input type="hidden" name="{FORM_FIELD}" value="{}">"#, uuid::Uuid::new_v4()));
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_post_form_gets_its_own_key_and_get_forms_none() {
        let html =
            r#"<form method="get" action="/s"><form method="post" action="/a"><x><form class="inline" method="post">"#;
        let keyed = super::with_form_keys(html);
        assert_eq!(keyed.matches(r#"name="idempotency_key""#).count(), 2);
        assert!(
            keyed.starts_with(r#"<form method="get" action="/s"><form method="post" action="/a"><input type="hidden""#)
        );
        let keys: Vec<&str> = keyed.split(r#"value=""#).skip(1).map(|v| &v[..36]).collect();
        assert_ne!(keys[0], keys[1]);
    }
}
