//! Evidence for policy: a catalogue of indicators computed from the store's facts, disclosure
//! control applied before any figure leaves this crate, and the views and files built from the
//! controlled tables (SVG charts and map, CSV, XLSX, DHIS2).

pub mod catalogue;
pub mod dims;
pub mod disclosure;
pub mod table;

pub use catalogue::{CATALOGUE, Indicator, indicator};
pub use dims::{Dimension, PeriodKind};
pub use table::{Cell, DEFAULT_K, Query, Table};

/// Every requested indicator's table for a query, read from the store and disclosure-controlled.
/// `lost_cutoff`: the time before which an unanswered positive screen counts as lost to follow-up.
pub async fn tables(
    store: &hamroh_store::Store,
    indicators: &[&'static Indicator],
    query: &Query,
    lost_cutoff: i64,
) -> Result<Vec<Table>, hamroh_store::StoreError> {
    let facts = store.facts(query.from, query.to, lost_cutoff).await?;
    let records = table::records(facts);
    Ok(indicators.iter().map(|i| table::build(i, &records, query)).collect())
}
pub mod export;
pub mod microdata;
pub mod svg;
