//! From facts to published tables. Every table leaves this module through [`build`], which applies
//! disclosure control: no count below `k`, no share or median over fewer than `k` records, and no
//! hidden count that the published totals give away.

use std::collections::{BTreeMap, BTreeSet};

use hamroh_store::facts::{Fact, Measure};
use hamroh_store::releases::Published;
use serde::Serialize;

use crate::catalogue::{Formula, Indicator, Metric, Selector};
use crate::dims::{Dimension, PeriodKind};
use crate::release::{Release, Scope, column_of, named_categories};

/// What to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `YYYYMM`, both ends included.
    pub from: i64,
    pub to: i64,
    pub period: PeriodKind,
    pub by: Option<Dimension>,
    /// The smallest count that may be published.
    pub k: i64,
    /// The smallest group over which a share of 0 % or 100 % may be published: below it, such a
    /// share tells every member's status.
    pub min_share_group: i64,
    /// The current month (`YYYYMM`): the release of its year ends with it.
    pub as_of: i64,
}

/// The default disclosure threshold.
pub const DEFAULT_K: i64 = 5;

/// The default smallest group for a share of 0 % or 100 %.
pub const DEFAULT_MIN_SHARE_GROUP: i64 = 10;

/// One published cell. A hidden figure is `None`; `suppressed` says that something was hidden.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cell {
    /// The count, share (0 to 1) or median (days).
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub suppressed: bool,
}

/// An indicator for periods (rows) by a breakdown (columns), with totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub indicator: &'static Indicator,
    pub period: PeriodKind,
    pub by: Option<Dimension>,
    pub k: i64,
    /// Row labels: the periods, then `total`.
    pub rows: Vec<String>,
    /// Column codes: the breakdown's values, then `total` (just `total` without a breakdown).
    pub columns: Vec<String>,
    pub cells: Vec<Vec<Cell>>,
}

impl Table {
    /// The total column's cells, period by period (without the total row).
    pub fn totals_by_period(&self) -> impl Iterator<Item = (&str, &Cell)> {
        let last = self.columns.len() - 1;
        self.rows.iter().zip(&self.cells).take(self.rows.len() - 1).map(move |(p, r)| (p.as_str(), &r[last]))
    }

    /// The total row's cells, column by column (none without a breakdown).
    pub fn totals_by_column(&self) -> impl Iterator<Item = (&str, &Cell)> {
        let last = self.cells.last().expect("a table has a total row");
        let n = if self.by.is_some() { self.columns.len() - 1 } else { 0 };
        self.columns.iter().zip(last).take(n).map(|(c, cell)| (c.as_str(), cell))
    }
}

/// A fact as indicators read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub metric: Metric,
    pub fact: Fact,
    /// The record's value for the table's breakdown (empty without one).
    pub key: String,
}

/// Turns the cube's rows for a breakdown into records.
pub fn records_from_cube(rows: Vec<hamroh_store::cube::CubeRow>, by: Option<Dimension>) -> Vec<Record> {
    let facts = rows.into_iter().map(|r| {
        let key = match by {
            Some(Dimension::Category) if r.category.is_empty() => "unknown".to_owned(),
            Some(Dimension::Category) => r.category.clone(),
            _ => r.dim_value,
        };
        (
            Fact {
                measure: r.measure,
                month: r.month,
                district: String::new(),
                sex: String::new(),
                birth_year: 0,
                destination: None,
                work_sector: None,
                category: Some(r.category).filter(|c| !c.is_empty()),
                value: r.value,
                n: r.n,
            },
            key,
        )
    });
    expand(facts, by)
}

/// The breakdown whose values records carry: districts for regions, as the release protects
/// regions and districts together.
pub fn leaf(by: Dimension) -> Dimension {
    if by == Dimension::Region { Dimension::District } else { by }
}

/// Turns the store's facts (all breakdown values at hand) into records for a breakdown.
pub fn records(facts: Vec<Fact>, by: Option<Dimension>) -> Vec<Record> {
    expand(
        facts.into_iter().map(|f| {
            let key = by.map(|b| leaf(b).key(&f)).unwrap_or_default();
            (f, key)
        }),
        by,
    )
}

/// WG-SS answers become disability and its domains; with the WG-SS domain as the breakdown, the
/// key follows the domain.
fn expand(facts: impl Iterator<Item = (Fact, String)>, by: Option<Dimension>) -> Vec<Record> {
    let domains: Vec<String> = hamroh_domain::instrument::catalog()
        .get("wgss")
        .map(|i| i.items.iter().map(|item| item.id.clone()).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (fact, key) in facts {
        let metric = match fact.measure {
            Measure::Registered => Metric::Registered,
            Measure::Screened => Metric::Screened,
            Measure::Positive => Metric::Positive,
            Measure::SelfHarm => Metric::SelfHarm,
            Measure::Injury => Metric::Injury,
            Measure::ReferralSent => Metric::ReferralSent,
            Measure::ReferralAccepted => Metric::ReferralAccepted,
            Measure::ReferralAttended => Metric::ReferralAttended,
            Measure::Barrier => Metric::Barrier,
            Measure::Lost => Metric::Lost,
            Measure::WgssAnswers => {
                let answers = fact.category.clone().unwrap_or_default();
                let severe: Vec<&String> = answers
                    .split(',')
                    .zip(&domains)
                    .filter(|(a, _)| matches!(a.trim().parse::<i64>(), Ok(3 | 4)))
                    .map(|(_, d)| d)
                    .collect();
                if !severe.is_empty() {
                    let wgss = Some("wgss".to_owned());
                    let key = if by == Some(Dimension::Category) { "wgss".to_owned() } else { key.clone() };
                    out.push(Record {
                        metric: Metric::WgssDisability,
                        fact: Fact { category: wgss, ..fact.clone() },
                        key,
                    });
                }
                for d in severe {
                    out.push(Record {
                        metric: Metric::WgssDomain,
                        fact: Fact { category: Some(d.clone()), ..fact.clone() },
                        key: if by == Some(Dimension::Category) { d.clone() } else { key.clone() },
                    });
                }
                continue;
            }
        };
        out.push(Record { metric, fact, key });
    }
    out
}

/// Where a fact goes in a table: its row, and its column when there is a breakdown.
type Place<'a> = dyn Fn(&Record) -> Option<(usize, Option<usize>)> + 'a;

/// Counts per (row, column) of the full table, totals included.
struct Grid {
    counts: Vec<Vec<i64>>,
}

fn count_grid(records: &[Record], sel: &Selector, place: &Place, rows: usize, cols: usize, with_totals: bool) -> Grid {
    let (full_r, full_c) = (rows + 1, cols + usize::from(with_totals));
    let mut counts = vec![vec![0i64; full_c]; full_r];
    for r in records.iter().filter(|r| sel.matches(r.metric, r.fact.category.as_deref())) {
        let Some((row, col)) = place(r) else { continue };
        let col = col.unwrap_or(0);
        let n = r.fact.n;
        counts[row][col] += n;
        counts[rows][col] += n;
        if with_totals {
            counts[row][cols] += n;
            counts[rows][cols] += n;
        }
    }
    Grid { counts }
}

fn median(values: &mut [(i64, i64)]) -> Option<f64> {
    values.sort_unstable();
    let n: i64 = values.iter().map(|v| v.1).sum();
    if n == 0 {
        return None;
    }
    let at = |rank: i64| {
        let mut seen = 0;
        for (v, w) in values.iter() {
            seen += w;
            if seen > rank {
                return *v as f64;
            }
        }
        0.0
    };
    Some(if n % 2 == 1 { at(n / 2) } else { (at(n / 2 - 1) + at(n / 2)) / 2.0 })
}

/// The metrics an indicator reads.
fn metrics(indicator: &Indicator) -> Vec<Metric> {
    indicator.formula.selectors().iter().map(|s| s.metric).collect()
}

/// The calendar years a query's months fall in.
fn years(q: &Query) -> Vec<i64> {
    (q.from / 100..=q.to / 100).collect()
}

impl Query {
    /// What a release for this query covers.
    pub fn scope(&self) -> Scope {
        Scope { years: years(self), as_of: self.as_of, by: self.by, k: self.k, min_share_group: self.min_share_group }
    }
}

/// The metrics some indicators read.
pub fn metrics_of(indicators: &[&'static Indicator]) -> Vec<Metric> {
    let mut out: Vec<Metric> = Vec::new();
    for m in indicators.iter().flat_map(|i| metrics(i)) {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// Protects the release behind some indicators' tables for a query, against the values figures
/// were published with before (`history`, by universe).
pub fn release_for(
    indicators: &[&'static Indicator],
    records: &[Record],
    q: &Query,
    history: &BTreeMap<String, Published>,
) -> Release {
    release_after(indicators, records, q, history, &[])
}

/// [`release_for`], protected together with earlier releases of the same breakdown (oldest
/// first).
pub fn release_after(
    indicators: &[&'static Indicator],
    records: &[Record],
    q: &Query,
    history: &BTreeMap<String, Published>,
    earlier: &[crate::release::Earlier],
) -> Release {
    Release::protect(records, metrics_of(indicators), &q.scope(), history, earlier)
}

/// Builds one indicator's table from records, with disclosure control applied, as a first release.
pub fn build(indicator: &'static Indicator, records: &[Record], q: &Query) -> Table {
    build_from(indicator, records, q, &release_for(&[indicator], records, q, &BTreeMap::new()))
}

/// Builds every indicator's table from one protected release, as a first release.
pub fn build_all(indicators: &[&'static Indicator], records: &[Record], q: &Query) -> Vec<Table> {
    let release = release_for(indicators, records, q, &BTreeMap::new());
    indicators.iter().map(|i| build_from(i, records, q, &release)).collect()
}

/// Builds one indicator's table, its figures hidden as the release says.
pub fn build_from(indicator: &'static Indicator, records: &[Record], q: &Query, release: &Release) -> Table {
    let periods = q.period.periods(q.from, q.to);
    let relevant = |r: &Record| match indicator.formula {
        Formula::Count { numerator } | Formula::Median { of: numerator } => {
            numerator.matches(r.metric, r.fact.category.as_deref())
        }
        Formula::Share { numerator, denominator } => {
            numerator.matches(r.metric, r.fact.category.as_deref())
                || denominator.matches(r.metric, r.fact.category.as_deref())
        }
    };
    let in_range = |f: &Fact| f.month >= q.from && f.month <= q.to;
    let column = |r: &Record| column_of(q.by, &r.key);
    let years = years(q);
    let columns: Vec<String> = match q.by {
        Some(Dimension::Category) => {
            let mut keys: BTreeSet<String> =
                records.iter().filter(|r| relevant(r) && years.contains(&(r.fact.month / 100))).map(column).collect();
            keys.extend(indicator.formula.selectors().iter().flat_map(named_categories).map(str::to_owned));
            keys.into_iter().collect()
        }
        Some(by) => {
            let keys: BTreeSet<String> = metrics(indicator)
                .into_iter()
                .flat_map(|m| crate::release::leaves(records, m, years.clone()))
                .map(|l| column_of(Some(by), &l))
                .collect();
            keys.into_iter().collect()
        }
        None => vec!["total".to_owned()],
    };
    let column_index: BTreeMap<&str, usize> = columns.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let period_index: BTreeMap<&str, usize> = periods.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
    let place = |r: &Record| -> Option<(usize, Option<usize>)> {
        let f = &r.fact;
        if !in_range(f) {
            return None;
        }
        let row = *period_index.get(q.period.period_of(f.month).as_str())?;
        let col = match q.by {
            Some(_) => Some(*column_index.get(column(r).as_str())?),
            None => None,
        };
        Some((row, col))
    };
    // Without data for a breakdown, one empty column stands for the total.
    let (rows, cols) = (periods.len(), columns.len().max(1));
    let mut out_columns = columns.clone();
    if q.by.is_some() || columns.is_empty() {
        out_columns.push("total".to_owned());
    }
    out_columns.truncate(out_columns.len().max(1));
    let mut out_rows = periods.clone();
    out_rows.push("total".to_owned());
    let with_totals = q.by.is_some() && !columns.is_empty();
    let full = (rows + 1, cols + usize::from(with_totals));
    // The months (in range) behind each row, the total row last.
    let mut row_months: Vec<Vec<i64>> = vec![Vec::new(); rows + 1];
    let mut m = q.from;
    while m <= q.to {
        if let Some(&r) = period_index.get(q.period.period_of(m).as_str()) {
            row_months[r].push(m);
            row_months[rows].push(m);
        }
        m = hamroh_store::facts::next_month(m);
    }
    let hidden_at = |sel: &Selector, r: usize, c: usize| -> bool {
        let months = &row_months[r];
        if c >= columns.len() || q.by.is_none() {
            return release.hidden(sel.metric, sel.categories, months, "total");
        }
        let code = columns[c].as_str();
        if q.by == Some(Dimension::Category) {
            let category = if code == "unknown" { "" } else { code };
            release.hidden(sel.metric, &[category], months, "total")
        } else {
            release.hidden(sel.metric, sel.categories, months, code)
        }
    };
    let hidden_grid = |sel: &Selector| -> Vec<Vec<bool>> {
        (0..full.0).map(|r| (0..full.1).map(|c| hidden_at(sel, r, c)).collect()).collect()
    };
    let mut cells = vec![vec![Cell::default(); out_columns.len()]; rows + 1];
    // A breakdown with one value has that value equal to its total: publish it the same way. (One
    // category is not the indicator's total, which counts other categories too.)
    let copy_total = q.by.is_some() && q.by != Some(Dimension::Category) && columns.len() == 1;
    match indicator.formula {
        Formula::Count { numerator } => {
            let g = count_grid(records, &numerator, &place, rows, cols, with_totals);
            let hidden = hidden_grid(&numerator);
            for r in 0..full.0 {
                for c in 0..full.1 {
                    let shown = !hidden[r][c];
                    cells[r][c] = Cell {
                        value: shown.then_some(g.counts[r][c] as f64),
                        numerator: shown.then_some(g.counts[r][c]),
                        denominator: None,
                        suppressed: !shown,
                    };
                }
            }
        }
        Formula::Share { numerator, denominator } => {
            let n = count_grid(records, &numerator, &place, rows, cols, with_totals);
            let d = count_grid(records, &denominator, &place, rows, cols, with_totals);
            let (hn, hd) = (hidden_grid(&numerator), hidden_grid(&denominator));
            for r in 0..full.0 {
                for c in 0..full.1 {
                    let (num, den) = (n.counts[r][c], d.counts[r][c]);
                    // A share of 0 % or 100 % over a small group tells each member's status.
                    let telling = (num == 0 || num == den) && den < q.min_share_group;
                    let published = !hn[r][c] && !hd[r][c] && den > 0 && !telling;
                    cells[r][c] = Cell {
                        value: published.then(|| num as f64 / den as f64),
                        numerator: (!(hn[r][c] || (telling && num > 0))).then_some(num),
                        denominator: (!hd[r][c]).then_some(den),
                        suppressed: hn[r][c] || hd[r][c] || telling,
                    };
                }
            }
        }
        Formula::Median { of } => {
            let mut values: Vec<Vec<Vec<(i64, i64)>>> = vec![vec![Vec::new(); full.1]; full.0];
            for rec in records.iter().filter(|r| of.matches(r.metric, r.fact.category.as_deref())) {
                let Some((row, col)) = place(rec) else { continue };
                let col = col.unwrap_or(0);
                let v = (rec.fact.value.unwrap_or(0), rec.fact.n);
                for (rr, cc) in [(row, col), (rows, col)] {
                    values[rr][cc].push(v);
                }
                if full.1 > cols {
                    values[row][cols].push(v);
                    values[rows][cols].push(v);
                }
            }
            let g = count_grid(records, &of, &place, rows, cols, with_totals);
            let hidden = hidden_grid(&of);
            for r in 0..full.0 {
                for c in 0..full.1 {
                    let n = g.counts[r][c];
                    // A median is shown only with its count of records, which is a count like any
                    // other: so it is hidden too when that count grew by fewer than k since shown,
                    // and one record added never moves a published median.
                    let shown = n >= q.k && !hidden[r][c];
                    cells[r][c] = Cell {
                        value: if shown { median(&mut values[r][c]) } else { None },
                        numerator: (!hidden[r][c]).then_some(n),
                        denominator: None,
                        suppressed: !shown,
                    };
                }
            }
        }
    }
    if copy_total {
        for row in cells.iter_mut() {
            row[0] = row[1].clone();
        }
    }
    Table { indicator, period: q.period, by: q.by, k: q.k, rows: out_rows, columns: out_columns, cells }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::catalogue::CATALOGUE;
    use crate::disclosure::{Layout, determined_cell};

    const DISTRICTS: [&str; 4] = ["TJ-KT.kulob", "TJ-KT.bokhtar", "TJ-SU.khujand", "TJ-DU.somoni"];
    const MEASURES: [Measure; 6] = [
        Measure::Registered,
        Measure::Screened,
        Measure::Positive,
        Measure::ReferralSent,
        Measure::ReferralAttended,
        Measure::Barrier,
    ];

    fn fact_strategy() -> impl Strategy<Value = Fact> {
        (0usize..6, 0i64..6, 0usize..4, any::<bool>(), 1950i64..2005, 0usize..3, 1i64..9, 0i64..40).prop_map(
            |(m, month, d, male, birth_year, cat, n, days)| Fact {
                measure: MEASURES[m],
                month: 202601 + month,
                district: DISTRICTS[d].to_owned(),
                sex: if male { "male" } else { "female" }.to_owned(),
                birth_year,
                destination: Some(["RU", "KZ", "TR"][cat].to_owned()),
                work_sector: None,
                category: Some(
                    match MEASURES[m] {
                        Measure::Screened | Measure::Positive => ["phq9", "gad7", "phq2"][cat],
                        Measure::Barrier => ["cost", "distance", "stigma"][cat],
                        _ => ["rehabilitation", "employment", "ngo"][cat],
                    }
                    .to_owned(),
                ),
                value: (MEASURES[m] == Measure::ReferralAttended).then_some(days),
                n,
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn no_published_figure_rests_on_fewer_than_k_records_and_no_hidden_count_is_recoverable(
            facts in prop::collection::vec(fact_strategy(), 0..80),
            by in prop::option::of(prop::sample::select(Dimension::ALL.to_vec())),
            quarterly in any::<bool>(),
            k in 2i64..8,
        ) {
            let records = records(facts, by);
            let period = if quarterly { PeriodKind::Quarter } else { PeriodKind::Month };
            let q = Query { from: 202601, to: 202606, period, by, k, min_share_group: DEFAULT_MIN_SHARE_GROUP, as_of: 202612 };
            let all: Vec<&'static Indicator> = CATALOGUE.iter().collect();
            // With k = 1 only zeros are hidden: which cells count no one.
            let zeros = build_all(&all, &records, &Query { k: 1, ..q });
            for ((indicator, t), z) in CATALOGUE.iter().zip(build_all(&all, &records, &q)).zip(zeros) {
                prop_assert_eq!(t.cells.len(), t.rows.len());
                for row in &t.cells {
                    prop_assert_eq!(row.len(), t.columns.len());
                    for cell in row {
                        prop_assert!(cell.numerator.is_none_or(|n| n >= k), "{}: count {:?} < {k}", indicator.id, cell.numerator);
                        prop_assert!(cell.denominator.is_none_or(|n| n >= k));
                        if let Formula::Median { .. } = indicator.formula {
                            // A median is shown over k records or more, and only with its count.
                            prop_assert_eq!(cell.value.is_some(), !cell.suppressed);
                            prop_assert!(cell.value.is_none() || cell.numerator.is_some_and(|n| n >= k), "{}: {:?}", indicator.id, cell);
                        } else if cell.value.is_some() && !matches!(indicator.formula, Formula::Count { .. }) {
                            // A share or median is published only over at least k records.
                            let base = cell.denominator.or(cell.numerator);
                            prop_assert!(base.is_some_and(|b| b >= k), "{}: {:?}", indicator.id, cell);
                            // No share of 0 % or 100 % over a group smaller than the setting.
                            if let (Formula::Share { .. }, Some(v)) = (&indicator.formula, cell.value) {
                                let small = cell.denominator.is_none_or(|d| d < q.min_share_group);
                                prop_assert!(!(small && (v == 0.0 || v == 1.0)), "{}: {:?}", indicator.id, cell);
                            }
                        }
                    }
                }
                if let Formula::Count { .. } = indicator.formula {
                    let interior_cols = if t.by.is_some() && t.columns.len() > 2 { t.columns.len() - 1 } else { 1 };
                    let layout = Layout { rows: t.rows.len() - 1, cols: interior_cols, row_totals: interior_cols > 1, col_totals: true };
                    let (fr, fc) = layout.full();
                    let mut hidden: Vec<Vec<bool>> = (0..fr).map(|r| (0..fc).map(|c| t.cells[r][c].suppressed).collect()).collect();
                    // The published pattern leaves no hidden count that counts anyone determined by
                    // the totals (a hidden zero may be: it tells nothing about a person).
                    while let Some((r, c)) = determined_cell(&hidden, &layout) {
                        prop_assert!(z.cells[r][c].numerator.is_none(), "{}: row {r} column {c} can be worked out", indicator.id);
                        hidden[r][c] = false;
                    }
                }
            }
        }
    }

    #[test]
    fn a_share_of_everyone_in_a_small_group_is_not_published() {
        let fact = |measure, month, n| Fact {
            measure,
            month,
            district: "TJ-KT.kulob".into(),
            sex: "male".into(),
            birth_year: 1990,
            destination: Some("RU".into()),
            work_sector: None,
            category: Some("gad7".into()),
            value: None,
            n,
        };
        // January: 8 of 8 screened positive, 100 % over fewer than 10. February: 12 of 12, a
        // group large enough. March: 6 of 9.
        let facts = vec![
            fact(Measure::Screened, 202601, 8),
            fact(Measure::Positive, 202601, 8),
            fact(Measure::Screened, 202602, 12),
            fact(Measure::Positive, 202602, 12),
            fact(Measure::Screened, 202603, 9),
            fact(Measure::Positive, 202603, 6),
        ];
        let q = Query {
            from: 202601,
            to: 202603,
            period: PeriodKind::Month,
            by: None,
            k: 5,
            min_share_group: 10,
            as_of: 202603,
        };
        let records = records(facts, None);
        let t = build(crate::indicator("anxiety_positive").unwrap(), &records, &q);
        assert_eq!(t.rows, ["202601", "202602", "202603", "total"]);
        let jan = &t.cells[0][0];
        assert_eq!((jan.value, jan.numerator, jan.suppressed), (None, None, true), "{jan:?}");
        // February's 12 of 12 may be published, or hidden to protect January.
        assert!(t.cells[1][0].value.is_none_or(|v| v == 1.0), "{:?}", t.cells[1][0]);
        // The hidden numerator cannot be worked out from the total and the other months.
        assert!(t.cells[2][0].numerator.is_none() || t.cells[3][0].numerator.is_none(), "{:?}", t.cells);
        // With the group size at k, January is no longer hidden for its share (it may still be,
        // to protect the instruments without screenings, whose zeros are hidden).
        let lax = build(crate::indicator("anxiety_positive").unwrap(), &records, &Query { min_share_group: 5, ..q });
        assert!(lax.cells[0][0].value.is_none_or(|v| v == 1.0));
    }

    #[test]
    fn a_share_is_its_numerator_over_its_denominator_and_a_median_is_the_middle_value() {
        let fact = |measure, category: &str, n, value| Fact {
            measure,
            month: 202603,
            district: "TJ-KT.kulob".into(),
            sex: "male".into(),
            birth_year: 1990,
            destination: Some("RU".into()),
            work_sector: None,
            category: Some(category.into()),
            value,
            n,
        };
        let facts = vec![
            fact(Measure::Screened, "gad7", 40, None),
            fact(Measure::Positive, "gad7", 10, None),
            fact(Measure::Screened, "phq9", 7, None),
            fact(Measure::ReferralSent, "ngo", 9, None),
            fact(Measure::ReferralAttended, "ngo", 3, Some(2)),
            fact(Measure::ReferralAttended, "ngo", 1, Some(5)),
            fact(Measure::ReferralAttended, "ngo", 2, Some(9)),
        ];
        let records = records(facts, None);
        let q = Query {
            from: 202601,
            to: 202603,
            period: PeriodKind::Quarter,
            by: None,
            k: 5,
            min_share_group: DEFAULT_MIN_SHARE_GROUP,
            as_of: 202603,
        };
        let anxiety = build(crate::indicator("anxiety_positive").unwrap(), &records, &q);
        assert_eq!(anxiety.rows, ["2026Q1", "total"]);
        assert_eq!(anxiety.cells[0][0].value, Some(0.25));
        let days = build(crate::indicator("days_to_attendance").unwrap(), &records, &q);
        // 2, 2, 2, 5, 9, 9: the middle pair is (2, 5).
        assert_eq!(days.cells[0][0].value, Some(3.5));
        let completion = build(crate::indicator("referral_completion").unwrap(), &records, &q);
        assert_eq!(completion.cells[0][0].value, Some(6.0 / 9.0));
        let strict = Query { k: 10, ..q };
        let hidden = build(crate::indicator("referral_completion").unwrap(), &records, &strict);
        assert_eq!((hidden.cells[0][0].value, hidden.cells[0][0].suppressed), (None, true));
    }

    #[test]
    fn one_record_added_never_moves_a_published_median() {
        let fact = |measure, n, days| Fact {
            measure,
            month: 202603,
            district: "TJ-KT.kulob".into(),
            sex: "male".into(),
            birth_year: 1990,
            destination: Some("RU".into()),
            work_sector: None,
            category: Some("ngo".into()),
            value: days,
            n,
        };
        // Every referral attended was sent, and three more were sent.
        let sent_and = |spans: &[(i64, i64)]| {
            let sent = spans.iter().map(|s| s.0).sum::<i64>() + 3;
            let mut facts = vec![fact(Measure::ReferralSent, sent, None)];
            facts.extend(spans.iter().map(|&(n, days)| fact(Measure::ReferralAttended, n, Some(days))));
            records(facts, None)
        };
        let q = Query {
            from: 202601,
            to: 202603,
            period: PeriodKind::Quarter,
            by: None,
            k: 5,
            min_share_group: DEFAULT_MIN_SHARE_GROUP,
            as_of: 202603,
        };
        let days = crate::indicator("days_to_attendance").unwrap();
        let before = sent_and(&[(3, 2), (3, 9)]);
        let first = release_for(&[days], &before, &q, &BTreeMap::new());
        let shown = build_from(days, &before, &q, &first);
        assert_eq!(
            (shown.cells[0][0].value, shown.cells[0][0].numerator),
            (Some(5.5), Some(6)),
            "{:?} {:?}",
            shown.rows,
            shown.cells
        );
        // One more person attended after 30 days: the median would move to 9 and say so.
        let after = sent_and(&[(3, 2), (3, 9), (1, 30)]);
        let second = release_for(&[days], &after, &q, &first.published);
        let t = build_from(days, &after, &q, &second);
        let cell = &t.cells[0][0];
        assert_eq!((cell.value, cell.numerator, cell.suppressed), (None, None, true), "{cell:?}");
        // k more records later, it is shown again.
        let later = sent_and(&[(3, 2), (3, 9), (5, 30)]);
        let third = release_for(&[days], &later, &q, &first.published);
        assert_eq!(build_from(days, &later, &q, &third).cells[0][0].value, Some(9.0));
    }
}
