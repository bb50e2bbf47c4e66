//! Static assets, embedded in the binary and served under a content-hashed name with a long cache
//! lifetime, so that a clinic on a slow network downloads each version once.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../static/hamroh.css");

/// The stylesheet's URL, with a hash of its content in the name.
pub fn css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let mut h = DefaultHasher::new();
        CSS.hash(&mut h);
        format!("/static/hamroh.{:012x}.css", h.finish() & 0xffff_ffff_ffff)
    })
}

pub async fn serve_static(Path(name): Path<String>) -> Response {
    if css_url().strip_prefix("/static/") == Some(name.as_str()) {
        (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            CSS,
        )
            .into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}
