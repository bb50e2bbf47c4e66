//! The evidence dashboard: indicators by period and by a breakdown, as tables, charts and a map of
//! the regions, with downloads. Analysts see only these aggregates, which the analytics crate has
//! already put through disclosure control.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hamroh_analytics::{Dimension, PeriodKind, Table, svg};

use super::{Chrome, page};
use crate::AppState;
use crate::error::WebError;
use crate::evidence::{self, choices, label, show};
use crate::i18n::Tr;
use crate::session::Viewer;

struct TableView {
    id: &'static str,
    title: String,
    definition: String,
    code: String,
    /// SVG drawings, already escaped where they hold text.
    charts: Vec<String>,
    header: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    indicators: Vec<(&'static str, String, bool)>,
    from: String,
    to: String,
    periods: Vec<(&'static str, String, bool)>,
    breakdowns: Vec<(&'static str, String, bool)>,
    note: String,
    query: String,
    tables: Vec<TableView>,
}

fn month_text(m: i64) -> String {
    format!("{}-{:02}", m / 100, m % 100)
}

fn cell_text(t: &Tr, table: &Table, cell: &hamroh_analytics::Cell) -> String {
    match (cell.value, cell.suppressed) {
        (Some(v), _) => show(table, v),
        (None, true) => t.get("evidence-hidden"),
        (None, false) => "–".to_owned(),
    }
}

fn view(t: &Tr, table: &Table) -> TableView {
    let id = table.indicator.id;
    let title = t.get(&format!("indicator-{id}"));
    let fmt = |v: f64| show(table, v);
    let hidden = t.get("evidence-hidden");
    let mut charts = Vec::new();
    let over_time: Vec<(String, Option<f64>)> =
        table.totals_by_period().map(|(p, c)| (p.to_owned(), c.value)).collect();
    if over_time.len() > 1 {
        charts.push(svg::line(&format!("{title}: {}", t.get("evidence-over-time")), &over_time, &fmt));
    }
    if table.by.is_some() {
        let by_column: Vec<(String, Option<f64>)> =
            table.totals_by_column().map(|(c, cell)| (label(t, table, c), cell.value)).collect();
        charts.push(svg::bars(&format!("{title}: {}", t.get("evidence-by-breakdown")), &by_column, &fmt, &hidden));
    }
    if table.by == Some(Dimension::Region) {
        let values: BTreeMap<String, Option<f64>> =
            table.totals_by_column().map(|(c, cell)| (c.to_owned(), cell.value)).collect();
        charts.push(svg::region_map(
            &format!("{title}: {}", t.get("evidence-map")),
            &values,
            &|code| label(t, table, code),
            &fmt,
            &hidden,
            &t.get("evidence-no-data"),
        ));
    }
    if id == "referral_completion" {
        let grand = &table.cells[table.rows.len() - 1][table.columns.len() - 1];
        if let (Some(attended), Some(sent)) = (grand.numerator, grand.denominator) {
            let rest = sent - attended;
            charts.push(svg::stacked(
                &t.get("evidence-referral-outcomes"),
                &[
                    (t.get("evidence-attended"), Some(attended as f64), "#1a7f37"),
                    (t.get("evidence-not-attended"), (rest >= table.k).then_some(rest as f64), "#d4a72c"),
                ],
                &hidden,
            ));
        }
    }
    let mut header = vec![t.get("evidence-period")];
    header.extend(table.columns.iter().map(|c| label(t, table, c)));
    let rows = table
        .rows
        .iter()
        .zip(&table.cells)
        .map(|(p, cells)| {
            let name = if p == "total" { t.get("evidence-total") } else { p.clone() };
            (name, cells.iter().map(|c| cell_text(t, table, c)).collect())
        })
        .collect();
    TableView {
        id,
        title,
        definition: t.get(&format!("indicator-{id}-definition")),
        code: format!("{} v{} = {}", id, table.indicator.version, table.indicator.code()),
        charts,
        header,
        rows,
    }
}

pub async fn dashboard(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let raw = raw.unwrap_or_default();
    let request = evidence::parse(&raw, state.disclosure)?;
    let tables = evidence::compute(&state, &request, &evidence::recipient(viewer.user.as_ref(), "dashboard")).await?;
    let t = &viewer.tr;
    let q = &request.query;
    let chosen: Vec<&str> = request.indicators.iter().map(|i| i.id).collect();
    let by = q.by.map_or("none", |b| b.as_str());
    let template = DashboardPage {
        c: Chrome::new(&viewer),
        indicators: choices(t).into_iter().map(|(id, name)| (id, name, chosen.contains(&id))).collect(),
        from: month_text(q.from),
        to: month_text(q.to),
        periods: [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year]
            .iter()
            .map(|p| (p.as_str(), t.get(&format!("evidence-period-{}", p.as_str())), *p == q.period))
            .collect(),
        breakdowns: std::iter::once("none")
            .chain(Dimension::ALL.iter().map(|d| d.as_str()))
            .map(|d| (d, t.get(&format!("evidence-by-{d}")), d == by))
            .collect(),
        note: t.with("evidence-note", &[("k", q.k.to_string())]),
        query: raw.clone(),
        tables: tables.iter().map(|table| view(t, table)).collect(),
    };
    Ok(page(&viewer, StatusCode::OK, &template))
}

async fn download(state: &AppState, viewer: &Viewer, raw: Option<String>, xlsx: bool) -> Result<Response, WebError> {
    let request = evidence::parse(&raw.unwrap_or_default(), state.disclosure)?;
    let channel = if xlsx { "xlsx" } else { "csv" };
    let tables = evidence::compute(state, &request, &evidence::recipient(viewer.user.as_ref(), channel)).await?;
    let t = &viewer.tr;
    let labeller = |table: &Table, code: &str| label(t, table, code);
    let (bytes, kind, ext) = if xlsx {
        let bytes =
            hamroh_analytics::export::xlsx(&tables, &labeller).map_err(|e| WebError::Internal(e.to_string()))?;
        (bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    } else {
        let bytes = hamroh_analytics::export::csv(&tables, &labeller).map_err(|e| WebError::Internal(e.to_string()))?;
        (bytes, "text/csv; charset=utf-8", "csv")
    };
    let q = &request.query;
    let name = format!("hamroh-indicators-{}-{}.{ext}", q.from, q.to);
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}

pub async fn csv(State(state): State<AppState>, viewer: Viewer, RawQuery(raw): RawQuery) -> Result<Response, WebError> {
    download(&state, &viewer, raw, false).await
}

pub async fn xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    download(&state, &viewer, raw, true).await
}
