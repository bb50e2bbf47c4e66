//! The JSON API under `/api/v1`. Every route is registered through utoipa-axum's `routes!`, so the
//! OpenAPI document at `/api/v1/openapi.json` is built from the router itself and cannot miss one;
//! every group of routes carries its access [`Rule`].

mod clinical;
mod fhir;
mod indicators;
mod instruments;
mod persons;
mod referrals;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::routing::get;
use axum::{Json, Router};
use hamroh_domain::access::CARE_ROLES;
use serde::de::DeserializeOwned;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{AUDITORS, EVIDENCE_READERS, Rule, enforce};
use crate::error::{ErrorBody, WebError};

#[derive(OpenApi)]
#[openapi(
    info(title = "Hamroh API", description = "Screening, referral and follow-up for returned labour migrants."),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "instruments", description = "Validated questionnaires and the scoring engine"),
        (name = "persons", description = "People's records, as their consent and the caller's organisation allow"),
        (name = "referrals", description = "Referrals across sectors, and the directory of services"),
        (name = "indicators", description = "Disclosure-controlled indicators for policy; never a person")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("hamroh_session"))));
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Applies `rule` to every route of `group` (when serving; the document needs no state).
fn guard(state: Option<&AppState>, rule: Rule, group: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    match state {
        Some(state) => group.route_layer(from_fn_with_state(
            state.clone(),
            move |State(s): State<AppState>, req: Request, next: Next| enforce(rule, s, req, next),
        )),
        None => group,
    }
}

/// The API routes, each group with its rule, and the OpenAPI document describing exactly them.
fn build(state: Option<&AppState>) -> (Router<AppState>, OpenApiDoc) {
    let public = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(instruments::list))
        .routes(routes!(instruments::show))
        .routes(routes!(instruments::score))
        .routes(routes!(fhir::instrument_questionnaire))
        .routes(routes!(referrals::services));
    let signed_in = guard(state, Rule::SignedIn, OpenApiRouter::new().routes(routes!(persons::me)));
    let care = guard(
        state,
        Rule::Roles(CARE_ROLES),
        OpenApiRouter::new()
            .routes(routes!(clinical::search, clinical::register))
            .routes(routes!(persons::show))
            .routes(routes!(fhir::person_record, fhir::import_responses))
            .routes(routes!(persons::consent))
            .routes(routes!(clinical::create_encounter))
            .routes(routes!(clinical::show_encounter))
            .routes(routes!(clinical::decide))
            .routes(routes!(referrals::refer))
            .routes(routes!(referrals::show))
            .routes(routes!(referrals::transition)),
    );
    let auditors = guard(state, Rule::Roles(AUDITORS), OpenApiRouter::new().routes(routes!(persons::audit)));
    let evidence = guard(
        state,
        Rule::Roles(EVIDENCE_READERS),
        OpenApiRouter::new().routes(routes!(indicators::catalogue)).routes(routes!(indicators::data)),
    );
    public.merge(signed_in).merge(care).merge(auditors).merge(evidence).split_for_parts()
}

pub fn router(state: &AppState) -> Router<AppState> {
    let (router, doc) = build(Some(state));
    router.route("/api/v1/openapi.json", get(move || std::future::ready(Json(doc.clone()))))
}

pub fn openapi() -> OpenApiDoc {
    build(None).1
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
