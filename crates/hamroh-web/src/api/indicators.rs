//! Indicators for machines: the catalogue, and disclosure-controlled tables for a query, the same
//! figures the dashboard shows.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use hamroh_analytics::CATALOGUE;

use crate::auth::Caller;
use hamroh_domain::org::Lang;
use serde::Serialize;

use crate::AppState;
use crate::error::{ErrorBody, WebError};
use crate::evidence;
use crate::i18n::Tr;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndicatorSummary {
    pub id: &'static str,
    pub version: u32,
    /// `count`, `share` or `median`.
    pub kind: &'static str,
    /// The definition as code, e.g. `count(positive[gad7]) / count(screened[gad7])`.
    pub code: String,
    /// What the `category` breakdown means for this indicator, if it has one.
    pub category: Option<&'static str>,
    /// The name in `tg`, `ru` and `en`.
    pub name: BTreeMap<&'static str, String>,
    /// The definition in words in `tg`, `ru` and `en`.
    pub definition: BTreeMap<&'static str, String>,
}

fn in_every_language(key: &str) -> BTreeMap<&'static str, String> {
    Lang::ALL.iter().map(|l| (l.as_str(), Tr::new(*l).get(key))).collect()
}

#[utoipa::path(
    get,
    path = "/api/v1/indicators",
    security(("session" = []), ("token" = [])),
    tag = "indicators",
    responses((status = 200, description = "The indicator catalogue", body = [IndicatorSummary]))
)]
pub async fn catalogue() -> Json<Vec<IndicatorSummary>> {
    Json(
        CATALOGUE
            .iter()
            .map(|i| IndicatorSummary {
                id: i.id,
                version: i.version,
                kind: match i.formula {
                    hamroh_analytics::catalogue::Formula::Count { .. } => "count",
                    hamroh_analytics::catalogue::Formula::Share { .. } => "share",
                    hamroh_analytics::catalogue::Formula::Median { .. } => "median",
                },
                code: i.code(),
                category: i.category,
                name: in_every_language(&format!("indicator-{}", i.id)),
                definition: in_every_language(&format!("indicator-{}-definition", i.id)),
            })
            .collect(),
    )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CellView {
    /// The count, share (0 to 1) or median (days); absent when hidden.
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// Something in this cell was hidden by disclosure control.
    pub suppressed: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TableView {
    pub indicator: &'static str,
    pub version: u32,
    /// `month`, `quarter` or `year`.
    pub period: &'static str,
    /// The breakdown, or `none`.
    pub by: &'static str,
    /// The smallest count published.
    pub k: i64,
    /// Periods (`202603`, `2026Q1`, `2026`), then `total`.
    pub rows: Vec<String>,
    /// Breakdown codes, then `total`.
    pub columns: Vec<String>,
    pub cells: Vec<Vec<CellView>>,
}

#[utoipa::path(
    get,
    path = "/api/v1/indicators/data",
    security(("session" = []), ("token" = [])),
    tag = "indicators",
    params(
        ("indicator" = Option<Vec<String>>, Query, description = "Indicator ids (repeat the parameter); default: a standard set"),
        ("from" = Option<String>, Query, description = "First month, YYYY-MM; default: eleven months before `to`"),
        ("to" = Option<String>, Query, description = "Last month, YYYY-MM; default: this month"),
        ("period" = Option<String>, Query, description = "month, quarter (default) or year"),
        ("by" = Option<String>, Query, description = "none, region (default), district, sex, age_band, destination, work_sector or category")
    ),
    responses(
        (status = 200, description = "One disclosure-controlled table per indicator", body = [TableView]),
        (status = 400, description = "An unknown indicator, period or breakdown", body = ErrorBody)
    )
)]
pub async fn data(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<TableView>>, WebError> {
    let request = evidence::parse(&raw.unwrap_or_default(), state.disclosure)?;
    let to = hamroh_analytics::Recipient {
        user_id: Some(caller.principal.user_id),
        organisation_id: Some(caller.principal.organisation_id),
        channel: "api".to_owned(),
    };
    let tables = evidence::compute(&state, &request, &to).await?;
    Ok(Json(
        tables
            .into_iter()
            .map(|t| TableView {
                indicator: t.indicator.id,
                version: t.indicator.version,
                period: t.period.as_str(),
                by: t.by.map_or("none", |b| b.as_str()),
                k: t.k,
                rows: t.rows,
                columns: t.columns,
                cells: t
                    .cells
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|c| CellView {
                                value: c.value,
                                numerator: c.numerator,
                                denominator: c.denominator,
                                suppressed: c.suppressed,
                            })
                            .collect()
                    })
                    .collect(),
            })
            .collect(),
    ))
}
