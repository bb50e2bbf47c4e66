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

/// To whom a release goes, for the release log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// `None` for the command line.
    pub user_id: Option<uuid::Uuid>,
    pub organisation_id: Option<uuid::Uuid>,
    /// Where the figures go: `dashboard`, `api`, `csv`, `xlsx`, `export csv`, …
    pub channel: String,
}

/// What to read from the cube for some metrics: each one's measure whole (lost to follow-up is
/// read from the records).
pub fn cube_reads(metrics: &[catalogue::Metric]) -> Vec<(hamroh_store::facts::Measure, Option<&'static str>)> {
    let mut reads: Vec<_> =
        metrics.iter().map(|m| (m.measure(), None)).filter(|r| r.0 != hamroh_store::facts::Measure::Lost).collect();
    reads.sort();
    reads.dedup();
    reads
}

/// Releases take turns: each is protected against the history the one before it recorded.
static RELEASING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How many times a release is protected again because another process recorded one meanwhile.
const RELEASE_ATTEMPTS: usize = 5;

/// Every requested indicator's table for a query, read from the store's indicator cube (kept in
/// the same transaction as the records) and disclosure-controlled against every figure and every
/// earlier release; the release is recorded in the store's release log, for `to`.
/// `lost_cutoff`: the time before which an unanswered positive screen counts as lost to follow-up.
pub async fn tables(
    store: &hamroh_store::Store,
    indicators: &[&'static Indicator],
    query: &Query,
    lost_cutoff: i64,
    to: &Recipient,
) -> Result<Vec<Table>, hamroh_store::StoreError> {
    Ok(tables_and_loss(store, indicators, query, lost_cutoff, to).await?.0)
}

/// [`tables`], with what the release hid.
pub async fn tables_and_loss(
    store: &hamroh_store::Store,
    indicators: &[&'static Indicator],
    query: &Query,
    lost_cutoff: i64,
    to: &Recipient,
) -> Result<(Vec<Table>, release::Loss), hamroh_store::StoreError> {
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
    let reads = cube_reads(&metrics);
    let (from, to_month) = (query.from / 100 * 100 + 1, query.to / 100 * 100 + 12);
    let rows = if reads.is_empty() { Vec::new() } else { store.cube(dim, from, to_month, &reads).await? };
    let mut records = table::records_from_cube(rows, query.by);
    if metrics.contains(&catalogue::Metric::Lost) {
        records.extend(table::records(store.lost_facts(from, to_month, lost_cutoff).await?, query.by));
    }
    let scope = query.scope();
    let universes = release::universes(metrics.iter().copied(), &scope.years, query.by);
    let ids: Vec<&str> = indicators.iter().map(|i| i.id).collect();
    let request = format!(
        "indicators={} from={} to={} period={} by={}",
        ids.join(","),
        query.from,
        query.to,
        query.period.as_str(),
        query.by.map_or("none", |b| b.as_str())
    );
    let _turn = RELEASING.lock().await;
    // Another process (an export beside the server) may record a release between this one's
    // reading the history and recording: then it is protected again against the newer history.
    for _ in 0..RELEASE_ATTEMPTS {
        let history = store.release_history(&universes).await?;
        let release = table::release_for(indicators, &records, query, &history.published);
        let tables: Vec<Table> = indicators.iter().map(|i| table::build_from(i, &records, query, &release)).collect();
        let (mut figures, mut withheld) = (0, 0);
        for cell in tables.iter().flat_map(|t| t.cells.iter().flatten()) {
            figures += i64::from(cell.numerator.is_some()) + i64::from(cell.denominator.is_some());
            withheld += i64::from(cell.suppressed);
        }
        let log = hamroh_store::releases::NewRelease {
            user_id: to.user_id,
            organisation_id: to.organisation_id,
            channel: to.channel.clone(),
            request: request.clone(),
            breakdown: dim.to_owned(),
            as_of: query.as_of,
            k: query.k,
            figures,
            withheld,
        };
        if store.record_release(&log, &release.published, Some(history.generation)).await?.is_some() {
            return Ok((tables, release.loss));
        }
    }
    Err(hamroh_store::StoreError::Busy("other releases kept being recorded meanwhile; ask again".to_owned()))
}
pub mod export;
pub mod microdata;
pub mod svg;
