//! `GET /api/v1/instruments`, `GET /api/v1/instruments/{id}` and `POST /api/v1/score`: the
//! instrument catalogue and the stateless scoring engine. They hold no personal data.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use hamroh_domain::instrument::{Instrument, LanguageOrigin, Score, ScoreContext, Texts, catalog};
use hamroh_domain::org::Lang;
use hamroh_domain::person::Sex;
use serde::{Deserialize, Serialize};

use super::ApiJson;
use crate::AppState;
use crate::error::{ErrorBody, WebError};

/// One line of the catalogue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstrumentSummary {
    pub id: String,
    pub version: String,
    pub short_name: String,
    pub name: Texts,
    pub items: usize,
    pub languages: BTreeMap<String, LanguageOrigin>,
}

#[utoipa::path(
    get,
    path = "/api/v1/instruments",
    tag = "instruments",
    responses((status = 200, description = "Every instrument, by id", body = [InstrumentSummary]))
)]
pub async fn list() -> Json<Vec<InstrumentSummary>> {
    Json(
        catalog()
            .iter()
            .map(|i| InstrumentSummary {
                id: i.id.clone(),
                version: i.version.clone(),
                short_name: i.short_name.clone(),
                name: i.name.clone(),
                items: i.items.len(),
                languages: i.languages.clone(),
            })
            .collect(),
    )
}

fn unknown(id: &str) -> WebError {
    WebError::NotFound {
        code: "unknown_instrument",
        message: format!("no instrument `{id}`; GET /api/v1/instruments lists them"),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/instruments/{id}",
    operation_id = "show_instrument",
    tag = "instruments",
    params(("id" = String, Path, description = "Instrument id, e.g. phq9")),
    responses(
        (status = 200, description = "The instrument file: items, answer options, scoring, sources", body = Instrument),
        (status = 404, description = "No such instrument", body = ErrorBody)
    )
)]
pub async fn show(Path(id): Path<String>) -> Result<Json<&'static Instrument>, WebError> {
    catalog().get(&id).map(Json).ok_or_else(|| unknown(&id))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    /// Instrument id, e.g. `phq9`.
    pub instrument: String,
    /// One value per item in item order; `null` for an item the skip rules leave out.
    pub answers: Vec<Option<i64>>,
    /// Needed where a rule depends on it (PHQ-15 item 4, AUDIT-C's cut-off).
    #[serde(default)]
    pub sex: Option<Sex>,
    /// Language of the texts in the result.
    #[serde(default)]
    pub lang: Option<Lang>,
}

#[utoipa::path(
    post,
    path = "/api/v1/score",
    tag = "instruments",
    request_body = ScoreRequest,
    responses(
        (status = 200, description = "The result: total, band, positive, red flags, cut-off used, detail", body = Score),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "Unknown instrument, or answers that do not fit it; the message names the item", body = ErrorBody)
    )
)]
pub async fn score(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ScoreRequest>,
) -> Result<Json<Score<'static>>, WebError> {
    let instrument = catalog().get(&req.instrument).ok_or_else(|| WebError::Invalid {
        code: "unknown_instrument",
        message: format!("no instrument `{}`; GET /api/v1/instruments lists them", req.instrument),
    })?;
    let ctx = ScoreContext {
        sex: req.sex,
        positive_at_least: state.cutoffs.for_respondent(&instrument.id, req.sex),
        lang: req.lang,
    };
    instrument
        .score(&req.answers, &ctx)
        .map(Json)
        .map_err(|e| WebError::Invalid { code: "invalid_answers", message: format!("{}: {e}", instrument.id) })
}
