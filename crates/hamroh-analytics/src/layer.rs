//! Release layers: one year's figures of every metric by every breakdown, protected at the same
//! moment, and kept in the store with the counts they were protected from: the year's last layer,
//! and the few before it (`hamroh_store::releases::EARLIER_LAYERS_KEPT`). The next release of
//! that year is protected together with all of them ([`Release::protect`]'s `earlier`): an
//! attacker who holds them, and knows that counts only grow, can narrow none. Every breakdown of
//! a year is released at the same moments, so the national figures that every breakdown shares
//! are the same layers in each.

use std::collections::BTreeMap;

use hamroh_store::facts::{Fact, Measure};
use serde::{Deserialize, Serialize};

use crate::catalogue::Metric;
use crate::dims::Dimension;
use crate::release::Release;
use crate::table::Record;

/// The breakdowns a layer holds, one for each dimension of the release history: by category
/// shares the national figures, by region the districts'.
pub const BREAKDOWNS: [Option<Dimension>; 6] = [
    None,
    Some(Dimension::District),
    Some(Dimension::Sex),
    Some(Dimension::AgeBand),
    Some(Dimension::Destination),
    Some(Dimension::WorkSector),
];

/// The breakdown whose layer protects a table by `by`.
pub fn breakdown_of(by: Option<Dimension>) -> Option<Dimension> {
    match by {
        None | Some(Dimension::Category) => None,
        Some(Dimension::Region) => Some(Dimension::District),
        other => other,
    }
}

/// One year's release of every breakdown, and the counts each was protected from.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// The last month with figures (`YYYYMM`) and the disclosure settings it was protected with.
    pub as_of: i64,
    pub k: i64,
    pub min_share_group: i64,
    /// By breakdown (`BREAKDOWNS`, in order): the counts, as [`canonical`] keeps them, and the
    /// release.
    pub breakdowns: Vec<(Vec<Record>, Release)>,
}

/// Records as a layer keeps and compares them: only what protection reads (metric, breakdown
/// value, month, category, value), equal ones summed, in one order.
pub fn canonical(records: impl IntoIterator<Item = Record>) -> Vec<Record> {
    /// Metric, breakdown value, month, category, value.
    type Same = (u8, String, i64, Option<String>, Option<i64>);
    let mut sums: BTreeMap<Same, (Record, i64)> = BTreeMap::new();
    for r in records {
        let key = (r.metric as u8, r.key.clone(), r.fact.month, r.fact.category.clone(), r.fact.value);
        let n = r.fact.n;
        sums.entry(key)
            .or_insert_with(|| {
                let fact = Fact {
                    measure: r.fact.measure,
                    month: r.fact.month,
                    district: String::new(),
                    sex: String::new(),
                    birth_year: 0,
                    destination: None,
                    work_sector: None,
                    category: r.fact.category.clone(),
                    value: r.fact.value,
                    n: 0,
                };
                (Record { metric: r.metric, fact, key: r.key.clone() }, 0)
            })
            .1 += n;
    }
    sums.into_values()
        .filter(|(_, n)| *n != 0)
        .map(|(mut r, n)| {
            r.fact.n = n;
            r
        })
        .collect()
}

/// A layer as the store keeps it (JSON).
#[derive(Serialize, Deserialize)]
struct Stored {
    as_of: i64,
    k: i64,
    min_share_group: i64,
    breakdowns: Vec<StoredBreakdown>,
}

/// A record as (metric, measure, key, month, category, value, n).
type StoredRecord = (Metric, String, String, i64, Option<String>, Option<i64>, i64);

/// One breakdown's records and figures, each figure as (figure, hidden, value).
#[derive(Serialize, Deserialize)]
struct StoredBreakdown {
    loss: crate::release::Loss,
    records: Vec<StoredRecord>,
    figures: Vec<(String, bool, i64)>,
}

impl Layer {
    /// The layer as the store keeps it.
    pub fn to_json(&self) -> String {
        let stored = Stored {
            as_of: self.as_of,
            k: self.k,
            min_share_group: self.min_share_group,
            breakdowns: self
                .breakdowns
                .iter()
                .map(|(records, release)| StoredBreakdown {
                    loss: release.loss,
                    records: records
                        .iter()
                        .map(|r| {
                            let f = &r.fact;
                            (
                                r.metric,
                                f.measure.as_str().to_owned(),
                                r.key.clone(),
                                f.month,
                                f.category.clone(),
                                f.value,
                                f.n,
                            )
                        })
                        .collect(),
                    figures: release.figure_list(),
                })
                .collect(),
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// A layer the store kept; `None` if it cannot be read (then the next release is protected
    /// without it, as a first one).
    pub fn from_json(text: &str) -> Option<Self> {
        let stored: Stored = serde_json::from_str(text).ok()?;
        let mut breakdowns = Vec::new();
        for b in stored.breakdowns {
            let mut records = Vec::with_capacity(b.records.len());
            for (metric, measure, key, month, category, value, n) in b.records {
                let fact = Fact {
                    measure: Measure::parse(&measure)?,
                    month,
                    district: String::new(),
                    sex: String::new(),
                    birth_year: 0,
                    destination: None,
                    work_sector: None,
                    category,
                    value,
                    n,
                };
                records.push(Record { metric, fact, key });
            }
            let mut release = Release::from_figure_list(stored.as_of, b.figures)?;
            release.loss = b.loss;
            breakdowns.push((records, release));
        }
        (breakdowns.len() == BREAKDOWNS.len()).then_some(Layer {
            as_of: stored.as_of,
            k: stored.k,
            min_share_group: stored.min_share_group,
            breakdowns,
        })
    }
}
