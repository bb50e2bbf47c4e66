//! The JSON API under `/api/v1`. Every route is registered through utoipa-axum's `routes!`, so the
//! OpenAPI document at `/api/v1/openapi.json` is built from the router itself and cannot miss one.

mod instruments;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ErrorBody, WebError};

#[derive(OpenApi)]
#[openapi(
    info(title = "Hamroh API", description = "Screening, referral and follow-up for returned labour migrants."),
    components(schemas(ErrorBody)),
    tags((name = "instruments", description = "Validated questionnaires and the scoring engine"))
)]
struct ApiDoc;

/// The API routes and the OpenAPI document describing exactly them.
pub fn router() -> (Router<AppState>, OpenApiDoc) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(instruments::list))
        .routes(routes!(instruments::show))
        .routes(routes!(instruments::score))
        .split_for_parts();
    let spec = doc.clone();
    let router = router.route("/api/v1/openapi.json", get(move || std::future::ready(Json(spec.clone()))));
    (router, doc)
}

/// A JSON body whose rejections answer in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(e)) => {
                Err(WebError::UnsupportedMediaType { message: e.body_text() })
            }
            Err(JsonRejection::JsonDataError(e)) => {
                Err(WebError::Invalid { code: "invalid_body", message: e.body_text() })
            }
            Err(e) => Err(WebError::BadRequest { code: "invalid_json", message: e.body_text() }),
        }
    }
}
