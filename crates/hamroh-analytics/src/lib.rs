//! Evidence for policy: a catalogue of indicators computed from the store's facts, disclosure
//! control applied before any figure leaves this crate, and the views and files built from the
//! controlled tables (SVG charts and map, CSV, XLSX, DHIS2).

pub mod catalogue;
pub mod dims;
pub mod disclosure;
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
        Some(by) => by.as_str(),
    };
    let mut reads: Vec<(hamroh_store::facts::Measure, Option<&str>)> =
        indicators.iter().flat_map(|i| i.reads()).collect();
    reads.sort();
    reads.dedup();
    // A measure read whole makes its single categories redundant; past two categories, one read
    // of the whole measure is cheaper than a read per category.
    let mut whole: Vec<_> = reads.iter().filter(|r| r.1.is_none()).map(|r| r.0).collect();
    for r in &reads {
        if reads.iter().filter(|x| x.0 == r.0 && x.1.is_some()).count() > 2 && !whole.contains(&r.0) {
            whole.push(r.0);
        }
    }
    reads.retain(|r| r.1.is_none() || !whole.contains(&r.0));
    for m in &whole {
        if !reads.contains(&(*m, None)) {
            reads.push((*m, None));
        }
    }
    let rows = store.cube(dim, query.from, query.to, &reads).await?;
    let mut records = table::records_from_cube(rows, query.by);
    if indicators.iter().any(|i| i.id == "lost_to_follow_up") {
        records.extend(table::records(store.lost_facts(query.from, query.to, lost_cutoff).await?, query.by));
    }
    Ok(indicators.iter().map(|i| table::build(i, &records, query)).collect())
}
pub mod export;
pub mod microdata;
pub mod svg;
