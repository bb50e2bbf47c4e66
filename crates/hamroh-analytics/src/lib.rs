//! Evidence for policy: a catalogue of indicators computed from the store's facts, disclosure
//! control applied before any figure leaves this crate, and the views and files built from the
//! controlled tables (SVG charts and map, CSV, XLSX, DHIS2).

pub mod catalogue;
pub mod dims;
pub mod disclosure;
pub mod layer;
pub mod protect;
pub mod release;
pub mod table;

use std::collections::BTreeMap;
use std::sync::Arc;

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
    tables_and_loss_every(store, indicators, query, lost_cutoff, to, 0).await
}

/// [`tables`], with what the release hid, and a new release of a year made at most every
/// `release_every_ms` (0: whenever its counts have changed); in between, the year's last release
/// is published again as it was, its counts included, however the counts have changed since.
///
/// A release is every metric of the query's years by every breakdown, made at one moment (a
/// [`layer::Layer`] for each year): the tables asked for are read from it. When a year's counts,
/// as-of month and settings are those of its last layer, or that layer is younger than
/// `release_every_ms` with the same as-of month and settings, that layer is published again as it
/// was (the same figures tell nothing new); otherwise the year is protected anew, together with
/// its last layers, and becomes the next one.
pub async fn tables_and_loss_every(
    store: &hamroh_store::Store,
    indicators: &[&'static Indicator],
    query: &Query,
    lost_cutoff: i64,
    to: &Recipient,
    release_every_ms: i64,
) -> Result<(Vec<Table>, release::Loss), hamroh_store::StoreError> {
    // When each step ended, in milliseconds from the start, for the debug log: where a slow page
    // spends its time.
    let started = std::time::Instant::now();
    let mut phases: Vec<(&str, u128)> = Vec::new();
    let mut phase = |name: &'static str| phases.push((name, started.elapsed().as_millis()));
    let scope = query.scope();
    let years = scope.years.clone();
    let (Some(&first), Some(&last)) = (years.first(), years.last()) else {
        return Ok((Vec::new(), release::Loss::default()));
    };
    let (from, to_month) = (first * 100 + 1, last * 100 + 12);
    let everything: Vec<&'static Indicator> = CATALOGUE.iter().collect();
    let metrics = table::metrics_of(&everything);
    let reads = cube_reads(&metrics);
    let dim_of = |by: Option<Dimension>| by.map_or("none", |b| table::leaf(b).as_str());
    // The reads go side by side, each on a connection of its own.
    let lost = {
        let store = store.clone();
        tokio::spawn(async move { store.lost_facts(from, to_month, lost_cutoff).await })
    };
    let cubes: Vec<_> = layer::BREAKDOWNS
        .iter()
        .map(|&by| {
            let (store, reads) = (store.clone(), reads.clone());
            tokio::spawn(async move { store.cube(dim_of(by), from, to_month, &reads).await })
        })
        .collect();
    let lost = Arc::new(joined(lost.await)?);
    // Each breakdown's counts by year as a layer keeps them, and the query's own records (by
    // category, keyed by category) from the same rows: shaped side by side, off the runtime.
    let own = layer::breakdown_of(query.by);
    let mut shaping = Vec::with_capacity(cubes.len());
    for (by, rows) in layer::BREAKDOWNS.into_iter().zip(cubes) {
        let rows = joined(rows.await)?;
        let (lost, years, asked_by) = (Arc::clone(&lost), years.clone(), (by == own).then_some(query.by));
        shaping.push(tokio::task::spawn_blocking(move || shape_counts(rows, &lost, by, asked_by, &years)));
    }
    let mut by_year: Vec<Vec<Vec<table::Record>>> = Vec::with_capacity(shaping.len());
    let mut asked: Vec<table::Record> = Vec::new();
    for shaped in shaping {
        let (own_records, years_counts) = joined(shaped.await.map(Ok))?;
        asked.extend(own_records);
        by_year.push(years_counts);
    }
    phase("counts read");
    let mine = layer::BREAKDOWNS.iter().position(|b| *b == own).unwrap_or(0);
    let mut universes: Vec<String> = Vec::new();
    for by in layer::BREAKDOWNS {
        universes.extend(release::universes(metrics.iter().copied(), &years, by));
    }
    universes.sort_unstable();
    universes.dedup();
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
        let mut history = store.release_history(&universes, &years).await?;
        phase("history read");
        let shown = Arc::new(std::mem::take(&mut history.published));
        let mut release = release::Release::default();
        let mut new_layers: Vec<(i64, String)> = Vec::new();
        let mut published: BTreeMap<String, hamroh_store::releases::Published> = BTreeMap::new();
        // Years published again from a last release made before their counts changed: their
        // tables show that release's counts.
        let mut kept_counts: Vec<(i64, Vec<table::Record>)> = Vec::new();
        let now_ms = hamroh_store::now_millis();
        for &year in &years {
            let earlier = history.layers.get(&year).and_then(|text| readable(text, year));
            phase("last layer read");
            // Each breakdown's counts of the year, as shaped above.
            let y = years.iter().position(|&y| y == year).unwrap_or(0);
            // Cloned: a release recorded meanwhile by another process means protecting again.
            let now: Vec<Vec<table::Record>> = by_year.iter().map(|b| b[y].clone()).collect();
            let same_settings = earlier
                .as_ref()
                .is_some_and(|l| (l.as_of, l.k, l.min_share_group) == (query.as_of, query.k, query.min_share_group));
            let unchanged =
                same_settings && earlier.as_ref().is_some_and(|l| l.breakdowns.iter().map(|b| &b.0).eq(now.iter()));
            let recent = release_every_ms > 0
                && history.layer_times.get(&year).is_some_and(|&at| now_ms.saturating_sub(at) < release_every_ms);
            let this = match earlier {
                Some(l) if unchanged => l,
                Some(l) if same_settings && recent => {
                    kept_counts.push((year, l.breakdowns[mine].0.clone()));
                    l
                }
                earlier => {
                    // The layers before the last, oldest first, then the last.
                    let mut stack: Vec<Arc<layer::Layer>> = Vec::new();
                    if earlier.is_some() {
                        let kept = store.earlier_layers(year).await?;
                        // Read side by side: each is a few megabytes of text.
                        let reading: Vec<_> = kept
                            .into_iter()
                            .map(|text| tokio::task::spawn_blocking(move || readable(&text, year)))
                            .collect();
                        for layer in reading {
                            stack.extend(joined(layer.await.map(Ok))?);
                        }
                    }
                    phase("earlier layers read");
                    stack.extend(earlier);
                    let year_scope = release::Scope { years: vec![year], ..scope.clone() };
                    let (shown, metrics) = (Arc::clone(&shown), metrics.clone());
                    let protecting =
                        tokio::task::spawn_blocking(move || protect_layer(now, &stack, &metrics, &year_scope, &shown));
                    let breakdowns = joined(protecting.await.map(Ok))?;
                    phase("protected");
                    for (_, protected) in &breakdowns {
                        release::add_published(&mut published, &protected.published);
                    }
                    let made = layer::Layer {
                        as_of: query.as_of,
                        k: query.k,
                        min_share_group: query.min_share_group,
                        breakdowns,
                    };
                    let text = made.to_json();
                    let made = parsed::keep(&text, made);
                    new_layers.push((year, text));
                    phase("layer written out");
                    made
                }
            };
            release.merge(this.breakdowns[mine].1.clone());
        }
        let release = &release;
        let shown =
            if kept_counts.is_empty() { asked.clone() } else { counts_as_released(&asked, kept_counts, query.by) };
        let tables: Vec<Table> = indicators.iter().map(|i| table::build_from(i, &shown, query, release)).collect();
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
            breakdown: dim_of(own).to_owned(),
            as_of: query.as_of,
            k: query.k,
            figures,
            withheld,
        };
        phase("tables built");
        if store.record_release(&log, &published, Some(history.generation), &new_layers).await?.is_some() {
            phase("release recorded");
            tracing::debug!(?phases, "indicator tables released (steps, ms from the start)");
            return Ok((tables, release.loss));
        }
    }
    Err(hamroh_store::StoreError::Busy("other releases kept being recorded meanwhile; ask again".to_owned()))
}

/// One breakdown's cube rows and lost-to-follow-up facts as records: for each of `years`, the
/// counts as a layer keeps them ([`layer::canonical`]); with `asked_by`, also the records of a
/// table by that breakdown (the query's own, keyed by category for a table by category).
fn shape_counts(
    rows: Vec<hamroh_store::cube::CubeRow>,
    lost: &[hamroh_store::facts::Fact],
    by: Option<Dimension>,
    asked_by: Option<Option<Dimension>>,
    years: &[i64],
) -> (Vec<table::Record>, Vec<Vec<table::Record>>) {
    let as_records = |rows: Vec<hamroh_store::cube::CubeRow>, by: Option<Dimension>| {
        let mut records = table::records_from_cube(rows, by);
        records.extend(table::records(lost.to_vec(), by));
        records
    };
    // A table by the layer's own breakdown has the layer's records; by region or category, its own.
    let asked = match asked_by {
        Some(q) if q != by => as_records(rows.clone(), q),
        _ => Vec::new(),
    };
    let records = as_records(rows, by);
    let asked = if asked_by == Some(by) { records.clone() } else { asked };
    let mut of_year: Vec<Vec<table::Record>> = vec![Vec::new(); years.len()];
    for r in records {
        if let Some(y) = years.iter().position(|&y| y == r.fact.month / 100) {
            of_year[y].push(r);
        }
    }
    (asked, of_year.into_iter().map(layer::canonical).collect())
}

/// A year's release by every breakdown ([`layer::BREAKDOWNS`], in order): `now` are each
/// breakdown's counts, `stack` the year's kept layers, oldest first. The breakdowns share no cells,
/// so they are protected side by side, each on a thread of its own; this runs off the async
/// runtime, because a year with several layers takes seconds of CPU.
fn protect_layer(
    now: Vec<Vec<table::Record>>,
    stack: &[Arc<layer::Layer>],
    metrics: &[catalogue::Metric],
    scope: &release::Scope,
    shown: &BTreeMap<String, hamroh_store::releases::Published>,
) -> Vec<(Vec<table::Record>, release::Release)> {
    std::thread::scope(|threads| {
        let running: Vec<_> = layer::BREAKDOWNS
            .iter()
            .zip(now)
            .enumerate()
            .map(|(i, (by, records))| {
                let scope = release::Scope { by: *by, ..scope.clone() };
                let before: Vec<release::Earlier> = stack
                    .iter()
                    .map(|l| release::Earlier { records: &l.breakdowns[i].0, release: &l.breakdowns[i].1 })
                    .collect();
                threads.spawn(move || {
                    let protected =
                        release::Release::protect(&records, metrics.iter().copied(), &scope, shown, &before);
                    (records, protected)
                })
            })
            .collect();
        running.into_iter().map(|t| t.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// The query's records, with those of each year in `kept` replaced by the counts its last release
/// was protected from (a layer's records, keyed by the breakdown's finest value, or for a table by
/// category, by category as [`table::records_from_cube`] keys them).
fn counts_as_released(
    asked: &[table::Record],
    kept: Vec<(i64, Vec<table::Record>)>,
    by: Option<Dimension>,
) -> Vec<table::Record> {
    let years: Vec<i64> = kept.iter().map(|k| k.0).collect();
    let mut out: Vec<table::Record> =
        asked.iter().filter(|r| !years.contains(&(r.fact.month / 100))).cloned().collect();
    for (_, records) in kept {
        out.extend(records.into_iter().map(|mut r| {
            if by == Some(Dimension::Category) {
                r.key = r.fact.category.clone().unwrap_or_else(|| "unknown".to_owned());
            }
            r
        }));
    }
    out
}

/// A kept release layer, or `None` with a warning if it cannot be read (written by a version that
/// kept another format, or damaged): the release is then protected without it, which the log says.
fn readable(text: &str, year: i64) -> Option<Arc<layer::Layer>> {
    if let Some(layer) = parsed::get(text) {
        return Some(layer);
    }
    match layer::Layer::from_json(text) {
        Some(layer) => Some(parsed::keep(text, layer)),
        None => {
            tracing::warn!(year, "a kept release layer could not be read; the release is protected without it");
            None
        }
    }
}

/// Layers already read, by their stored text: a kept layer never changes, and reading one (a few
/// megabytes of JSON) is a large part of every page, which compares the counts with the year's
/// last layer. Only the last two are kept: read, a layer of 200,000 persons takes some 50 MB, and
/// the earlier layers are read only when the counts have changed.
mod parsed {
    use std::sync::{Arc, Mutex};

    use crate::layer::Layer;

    const KEPT: usize = 2;

    /// Most recently used first.
    static LAYERS: Mutex<Vec<(String, Arc<Layer>)>> = Mutex::new(Vec::new());

    pub fn get(text: &str) -> Option<Arc<Layer>> {
        let mut layers = LAYERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let at = layers.iter().position(|(t, _)| t == text)?;
        let entry = layers.remove(at);
        let layer = Arc::clone(&entry.1);
        layers.insert(0, entry);
        Some(layer)
    }

    pub fn keep(text: &str, layer: Layer) -> Arc<Layer> {
        let layer = Arc::new(layer);
        let mut layers = LAYERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        layers.retain(|(t, _)| t != text);
        layers.insert(0, (text.to_owned(), Arc::clone(&layer)));
        layers.truncate(KEPT);
        layer
    }
}

/// A task's outcome; a panic in the task is the caller's.
fn joined<T>(
    outcome: Result<Result<T, hamroh_store::StoreError>, tokio::task::JoinError>,
) -> Result<T, hamroh_store::StoreError> {
    match outcome {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(hamroh_store::StoreError::Busy("the server is shutting down; ask again".to_owned())),
    }
}

pub mod export;
pub mod microdata;
pub mod svg;
