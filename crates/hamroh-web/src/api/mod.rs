//! The JSON API under `/api/v1`. Every route is registered through utoipa-axum's `routes!`, so the
//! OpenAPI document at `/api/v1/openapi.json` is built from the router itself and cannot miss one;
//! every group of routes carries its access [`Rule`].

mod clinical;
mod fhir;
mod indicators;
mod instruments;
mod persons;
mod referrals;
mod safety;
pub(crate) use safety::follow_up_change;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::routing::get;
use axum::{Json, Router};
use hamroh_domain::access::{CARE_ROLES, Scope};
use serde::de::DeserializeOwned;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{AUDITORS, Credentials, EVIDENCE_READERS, Rule, TokenScope, enforce};
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

/// Whether the route the request matched takes its method, as the API document says.
fn takes(req: &Request) -> bool {
    use std::collections::HashMap;
    use std::sync::LazyLock;
    static METHODS: LazyLock<HashMap<String, Vec<axum::http::Method>>> = LazyLock::new(|| {
        use axum::http::Method;
        openapi()
            .paths
            .paths
            .into_iter()
            .map(|(path, item)| {
                let mut methods = Vec::new();
                for (op, method) in [
                    (item.get.is_some(), Method::GET),
                    (item.get.is_some(), Method::HEAD),
                    (item.post.is_some(), Method::POST),
                    (item.put.is_some(), Method::PUT),
                    (item.patch.is_some(), Method::PATCH),
                    (item.delete.is_some(), Method::DELETE),
                ] {
                    if op {
                        methods.push(method);
                    }
                }
                (path, methods)
            })
            .collect()
    });
    let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() else { return true };
    METHODS.get(path.as_str()).is_none_or(|m| m.contains(req.method()))
}

/// Applies `rule` to every route of `group`, for a session or a token with `scope` (when serving;
/// the document needs no state).
fn guard(
    state: Option<&AppState>,
    rule: Rule,
    scope: TokenScope,
    group: OpenApiRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let credentials = Credentials::SessionOrToken(scope);
    match state {
        Some(state) => group.route_layer(from_fn_with_state(
            state.clone(),
            move |State(s): State<AppState>, req: Request, next: Next| async move {
                // A method the route does not take is answered 405 by the router, not refused by
                // the access rule first.
                if takes(&req) { enforce(rule, credentials, s, req, next).await } else { next.run(req).await }
            },
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
    let signed_in = guard(state, Rule::SignedIn, TokenScope::Any, OpenApiRouter::new().routes(routes!(persons::me)));
    let care = guard(
        state,
        Rule::Roles(CARE_ROLES),
        TokenScope::Persons,
        OpenApiRouter::new()
            .routes(routes!(clinical::search, clinical::register))
            .routes(routes!(persons::show, persons::change))
            .routes(routes!(persons::changes))
            .routes(routes!(fhir::person_record, fhir::import_responses))
            .routes(routes!(persons::consent))
            .routes(routes!(clinical::create_encounter))
            .routes(routes!(clinical::show_encounter))
            .routes(routes!(clinical::decide))
            .routes(routes!(safety::assess))
            .routes(routes!(safety::follow_ups, safety::add_follow_up))
            .routes(routes!(safety::change_follow_up))
            .routes(routes!(safety::worklist))
            .routes(routes!(referrals::refer))
            .routes(routes!(referrals::show))
            .routes(routes!(referrals::transition))
            .routes(routes!(referrals::issue_partner_link, referrals::revoke_partner_link)),
    );
    let auditors = guard(
        state,
        Rule::Roles(AUDITORS),
        TokenScope::Only(Scope::PersonsRead),
        OpenApiRouter::new().routes(routes!(persons::audit)),
    );
    let evidence = guard(
        state,
        Rule::Roles(EVIDENCE_READERS),
        TokenScope::Only(Scope::Export),
        OpenApiRouter::new().routes(routes!(indicators::catalogue)).routes(routes!(indicators::data)),
    );
    let (router, mut doc) = public.merge(signed_in).merge(care).merge(auditors).merge(evidence).split_for_parts();
    document_common_errors(&mut doc);
    (router, doc)
}

/// The answers every operation of a kind can give, whatever its handler: the ones the shared
/// extractors, the access rules, the idempotency layer and the store produce. Documented once
/// here so that the document says every status the API sends.
fn document_common_errors(doc: &mut OpenApiDoc) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let writes = item.post.is_some() || item.put.is_some() || item.patch.is_some() || item.delete.is_some();
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            let mut add = |status: &str, description: &str| {
                op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
            };
            add("503", "The database is unavailable, or a write could not be made durable; nothing was stored");
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                add("401", "No session and no valid API token");
                add("403", "The role or the token's scopes do not allow this");
            }
            if op.request_body.is_some() {
                add("400", "The body is not JSON");
                add("415", "The body is not `application/json`");
                add("422", "The body or its values are not acceptable");
            }
            if writes && op.request_body.is_some() {
                add("409", "A request with the same Idempotency-Key is still being answered");
                add("507", "The database is full; nothing was stored, reading still works");
            }
        }
    }
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
