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
    let scope = query.scope();
    let years = scope.years.clone();
    let (Some(&first), Some(&last)) = (years.first(), years.last()) else {
        return Ok((Vec::new(), release::Loss::default()));
    };
    let (from, to_month) = (first * 100 + 1, last * 100 + 12);
    let everything: Vec<&'static Indicator> = CATALOGUE.iter().collect();
    let metrics = table::metrics_of(&everything);
    let reads = cube_reads(&metrics);
    let lost = store.lost_facts(from, to_month, lost_cutoff).await?;
    let dim_of = |by: Option<Dimension>| by.map_or("none", |b| table::leaf(b).as_str());
    // Every breakdown's counts, and the query's own (by category, keyed by category) from the same
    // rows.
    let mut counts: Vec<Vec<table::Record>> = Vec::new();
    let mut asked: Vec<table::Record> = Vec::new();
    let own = layer::breakdown_of(query.by);
    for by in layer::BREAKDOWNS {
        let rows = store.cube(dim_of(by), from, to_month, &reads).await?;
        if by == own {
            asked = table::records_from_cube(rows.clone(), query.by);
            asked.extend(table::records(lost.clone(), query.by));
        }
        let mut records = table::records_from_cube(rows, by);
        records.extend(table::records(lost.clone(), by));
        counts.push(records);
    }
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
        let history = store.release_history(&universes, &years).await?;
        let mut merged: Vec<release::Release> = vec![release::Release::default(); layer::BREAKDOWNS.len()];
        let mut new_layers: Vec<(i64, String)> = Vec::new();
        let mut published: BTreeMap<String, hamroh_store::releases::Published> = BTreeMap::new();
        // Years published again from a last release made before their counts changed: their
        // tables show that release's counts.
        let mut kept_counts: Vec<(i64, Vec<table::Record>)> = Vec::new();
        let now_ms = hamroh_store::now_millis();
        for &year in &years {
            let earlier = history.layers.get(&year).and_then(|text| readable(text, year));
            let now: Vec<Vec<table::Record>> = counts
                .iter()
                .map(|records| layer::canonical(records.iter().filter(|r| r.fact.month / 100 == year).cloned()))
                .collect();
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
                    let mut stack: Vec<layer::Layer> = Vec::new();
                    if earlier.is_some() {
                        let kept = store.earlier_layers(year).await?;
                        stack.extend(kept.iter().filter_map(|text| readable(text, year)));
                    }
                    stack.extend(earlier);
                    let mut breakdowns = Vec::new();
                    for (i, (by, records)) in layer::BREAKDOWNS.iter().zip(now).enumerate() {
                        let scope = release::Scope { years: vec![year], by: *by, ..scope.clone() };
                        let before: Vec<release::Earlier> = stack
                            .iter()
                            .map(|l| release::Earlier { records: &l.breakdowns[i].0, release: &l.breakdowns[i].1 })
                            .collect();
                        let protected = release::Release::protect(
                            &records,
                            metrics.iter().copied(),
                            &scope,
                            &history.published,
                            &before,
                        );
                        release::add_published(&mut published, &protected.published);
                        breakdowns.push((records, protected));
                    }
                    let made = layer::Layer {
                        as_of: query.as_of,
                        k: query.k,
                        min_share_group: query.min_share_group,
                        breakdowns,
                    };
                    new_layers.push((year, made.to_json()));
                    made
                }
            };
            for (i, (_, r)) in this.breakdowns.into_iter().enumerate() {
                merged[i].merge(r);
            }
        }
        let release = &merged[mine];
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
        if store.record_release(&log, &published, Some(history.generation), &new_layers).await?.is_some() {
            return Ok((tables, release.loss));
        }
    }
    Err(hamroh_store::StoreError::Busy("other releases kept being recorded meanwhile; ask again".to_owned()))
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
fn readable(text: &str, year: i64) -> Option<layer::Layer> {
    let layer = layer::Layer::from_json(text);
    if layer.is_none() {
        tracing::warn!(year, "a kept release layer could not be read; the release is protected without it");
    }
    layer
}

pub mod export;
pub mod microdata;
pub mod svg;
