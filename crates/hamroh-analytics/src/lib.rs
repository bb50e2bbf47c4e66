//! Evidence for policy: a catalogue of indicators computed from the store's facts, disclosure
//! control applied before any figure leaves this crate, and the views and files built from the
//! controlled tables (SVG charts and map, CSV, XLSX, DHIS2).

pub mod catalogue;
pub mod dims;
pub mod disclosure;
pub mod protect;
pub mod release;
pub mod table;

pub use catalogue::{CATALOGUE, Indicator, indicator};
pub use dims::{Dimension, PeriodKind};
pub use table::{Cell, DEFAULT_K, DEFAULT_MIN_SHARE_GROUP, Query, Table};

/// Every requested indicator's table for a query, read from the store's indicator cube (kept in
/// the same transaction as the records) and disclosure-controlled.
/// `lost_cutoff`: the time before which an unanswered positive screen counts as lost to follow-up.
pub async fn tables(
    store: &hamroh_store::Store,
    indicators: &[&'static Indicator],
    query: &Query,
    lost_cutoff: i64,
) -> Result<Vec<Table>, hamroh_store::StoreError> {
    let dim = match query.by {
        None | Some(Dimension::Category) => "none",
        Some(by) => table::leaf(by).as_str(),
    };
    // The release covers whole years and every category of each metric read, denominators too.
    let mut metrics: Vec<catalogue::Metric> = Vec::new();
    for i in indicators.iter().flat_map(|i| i.reads_metrics()) {
        if !metrics.contains(&i) {
            metrics.push(i);
        }
    }
    let mut reads: Vec<(hamroh_store::facts::Measure, Option<&str>)> =
        metrics.iter().map(|m| (m.measure(), None)).filter(|r| r.0 != hamroh_store::facts::Measure::Lost).collect();
    reads.sort();
    reads.dedup();
    let (from, to) = (query.from / 100 * 100 + 1, query.to / 100 * 100 + 12);
    let rows = if reads.is_empty() { Vec::new() } else { store.cube(dim, from, to, &reads).await? };
    let mut records = table::records_from_cube(rows, query.by);
    if metrics.contains(&catalogue::Metric::Lost) {
        records.extend(table::records(store.lost_facts(from, to, lost_cutoff).await?, query.by));
    }
    Ok(table::build_all(indicators, &records, query))
}
pub mod export;
pub mod microdata;
pub mod svg;
