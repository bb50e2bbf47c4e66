//! An attacker who solves a whole release as a linear program.
//!
//! The attacker reads every table of one year that the dashboard, API and files publish: every
//! indicator, by no breakdown, by category, by region, by district and by sex, per month, quarter
//! and year. The unknowns are the counts of each metric by category and month, nationally and by
//! each breakdown's values (every breakdown adds up to the national counts), none negative. Every
//! published figure is an equation. For each hidden figure the attacker minimises and maximises it;
//! the release fails if any hidden figure that counts anyone is bounded away from 0 or from `k`.
//! (A hidden figure that counts no one may be bounded: that tells nothing about a person.)

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hamroh_analytics::catalogue::{Formula, Metric, Selector};
use hamroh_analytics::table::{Record, build_all, records};
use hamroh_analytics::{CATALOGUE, Dimension, PeriodKind, Query, Table};
use hamroh_store::facts::{Fact, Measure};
use microlp::{ComparisonOp, OptimizationDirection, Problem};
use proptest::prelude::*;

const YEAR: i64 = 2026;

/// A figure as a set of unknowns.
type Figure = Vec<usize>;

/// Which breakdown an unknown belongs to: `None` for the national counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Unknown {
    metric: String,
    category: String,
    month: i64,
    breakdown: Option<(String, String)>,
}

#[derive(Default)]
struct Attacker {
    unknowns: BTreeMap<Unknown, usize>,
    /// Sums of unknowns that are published, with their values.
    equations: Vec<(Figure, f64)>,
    /// Hidden figures: what they are, and their unknowns.
    hidden: Vec<(String, Figure)>,
    /// The categories of each metric, as the attacker learns them.
    categories: HashMap<String, BTreeSet<String>>,
}

fn metric_name(m: Metric) -> String {
    serde_json::to_value(m).unwrap().as_str().unwrap().to_owned()
}

fn months_of(row: &str) -> Vec<i64> {
    if row == "total" {
        (1..=12).collect()
    } else if let Some((_, q)) = row.split_once('Q') {
        let q: i64 = q.parse().unwrap();
        (q * 3 - 2..=q * 3).collect()
    } else if row.len() == 6 {
        vec![row[4..].parse().unwrap()]
    } else {
        (1..=12).collect()
    }
}

impl Attacker {
    fn unknown(&mut self, u: Unknown) -> usize {
        let next = self.unknowns.len();
        *self.unknowns.entry(u).or_insert(next)
    }

    /// The unknowns behind one figure of a table.
    fn figure(&mut self, table: &Table, sel: &Selector, row: &str, column: &str, leaves: &[String]) -> Figure {
        let metric = metric_name(sel.metric);
        let mut all: Vec<String> = self.categories.get(&metric).cloned().unwrap_or_default().into_iter().collect();
        if all.is_empty() {
            // A metric without records or categories: one unknown per month and column.
            all.push(String::new());
        }
        let cats: Vec<String> = match (table.by, column) {
            (Some(Dimension::Category), c) if c != "total" => {
                vec![if c == "unknown" { String::new() } else { c.to_owned() }]
            }
            _ if sel.categories.is_empty() => all,
            _ => sel.categories.iter().map(|c| (*c).to_owned()).collect(),
        };
        let breakdown: Vec<Option<(String, String)>> = match (table.by, column) {
            (None | Some(Dimension::Category), _) | (_, "total") => vec![None],
            (Some(Dimension::Region), region) => leaves
                .iter()
                .filter(|d| d.split('.').next() == Some(region))
                .map(|d| Some(("district".to_owned(), d.clone())))
                .collect(),
            (Some(Dimension::District), d) => vec![Some(("district".to_owned(), d.to_owned()))],
            (Some(by), v) => vec![Some((by.as_str().to_owned(), v.to_owned()))],
        };
        let mut out = Vec::new();
        for c in &cats {
            for m in months_of(row) {
                for b in &breakdown {
                    out.push(self.unknown(Unknown {
                        metric: metric.clone(),
                        category: c.clone(),
                        month: m,
                        breakdown: b.clone(),
                    }));
                }
            }
        }
        out
    }

    fn read(&mut self, table: &Table, districts: &[String]) {
        let id = table.indicator.id;
        let parts: Vec<(Selector, bool)> = match table.indicator.formula {
            Formula::Count { numerator } | Formula::Median { of: numerator } => vec![(numerator, true)],
            Formula::Share { numerator, denominator } => vec![(numerator, true), (denominator, false)],
        };
        for (r, row) in table.rows.iter().enumerate() {
            for (c, column) in table.columns.iter().enumerate() {
                let cell = &table.cells[r][c];
                for (sel, is_numerator) in &parts {
                    let value = if *is_numerator { cell.numerator } else { cell.denominator };
                    let figure = self.figure(table, sel, row, column, districts);
                    match value {
                        Some(v) => self.equations.push((figure, v as f64)),
                        None => {
                            let what = format!(
                                "{id} {} by {:?} {row} {column}",
                                if *is_numerator { "numerator" } else { "denominator" },
                                table.by
                            );
                            self.hidden.push((what, figure));
                        }
                    }
                }
            }
        }
    }

    /// The true value of each unknown, from the records behind the release.
    fn truth(&self, recs: &[(Option<Dimension>, Vec<Record>)]) -> HashMap<usize, i64> {
        let mut out = HashMap::new();
        for (by, records) in recs {
            let breakdown = |r: &Record| match by {
                None | Some(Dimension::Category) => None,
                Some(Dimension::Region | Dimension::District) => Some(("district".to_owned(), r.key.clone())),
                Some(b) => Some((b.as_str().to_owned(), r.key.clone())),
            };
            for r in records {
                let u = Unknown {
                    metric: metric_name(r.metric),
                    category: r.fact.category.clone().unwrap_or_default(),
                    month: r.fact.month % 100,
                    breakdown: breakdown(r),
                };
                // The national counts once, from the release without a breakdown.
                if u.breakdown.is_none() && by.is_some() {
                    continue;
                }
                if let Some(&i) = self.unknowns.get(&u) {
                    *out.entry(i).or_insert(0) += r.fact.n;
                }
            }
        }
        out
    }

    /// Every breakdown adds up to the national counts.
    fn link(&mut self) {
        let mut sums: BTreeMap<(Unknown, String), Vec<usize>> = BTreeMap::new();
        for (u, &i) in &self.unknowns {
            if let Some((by, _)) = &u.breakdown {
                let national = Unknown { breakdown: None, ..u.clone() };
                sums.entry((national, by.clone())).or_default().push(i);
            }
        }
        for ((national, _), parts) in sums {
            let n = self.unknown(national);
            let mut figure = parts;
            figure.push(n);
            // parts - national = 0: written as a figure with a negative last term below.
            self.equations.push((figure, f64::NAN));
        }
    }

    /// The least and greatest value of a figure (`None`: unbounded above). Metrics share no
    /// unknowns, so only the figure's own metric's equations are solved.
    fn bounds(&self, figure: &Figure) -> (f64, Option<f64>) {
        let metric_of: HashMap<usize, &str> = self.unknowns.iter().map(|(u, &i)| (i, u.metric.as_str())).collect();
        let metric = metric_of[&figure[0]];
        let local: BTreeMap<usize, usize> = metric_of
            .iter()
            .filter(|(_, m)| **m == metric)
            .map(|(i, _)| *i)
            .collect::<BTreeSet<usize>>()
            .into_iter()
            .enumerate()
            .map(|(l, g)| (g, l))
            .collect();
        let solve = |direction| {
            let mut p = Problem::new(direction);
            let vars: Vec<_> = local
                .keys()
                .map(|i| p.add_var(if figure.contains(i) { 1.0 } else { 0.0 }, (0.0, f64::INFINITY)))
                .collect();
            for (f, v) in self.equations.iter().filter(|(f, _)| local.contains_key(&f[0])) {
                let mut terms: Vec<_> = f.iter().map(|i| (vars[local[i]], 1.0)).collect();
                if v.is_nan() {
                    // The breakdown's parts less the national count.
                    terms.last_mut().unwrap().1 = -1.0;
                }
                p.add_constraint(terms.as_slice(), ComparisonOp::Eq, if v.is_nan() { 0.0 } else { *v });
            }
            p.solve()
        };
        let low = solve(OptimizationDirection::Minimize).expect("the true counts are a solution").objective();
        let high = solve(OptimizationDirection::Maximize).ok().map(|s| s.objective());
        (low, high)
    }
}

/// Every table of the year, as the dashboard publishes them.
fn release(recs: &[(Option<Dimension>, Vec<Record>)], k: i64) -> Vec<Table> {
    let indicators: Vec<_> = CATALOGUE.iter().collect();
    let mut out = Vec::new();
    for (by, records) in recs {
        for period in [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
            let q = Query {
                from: YEAR * 100 + 1,
                to: YEAR * 100 + 12,
                period,
                by: *by,
                k,
                min_share_group: 10,
                as_of: YEAR * 100 + 12,
            };
            out.extend(build_all(&indicators, records, &q));
        }
    }
    out
}

/// The hidden figures an attacker can bound away from 0 or `k`, described.
fn narrowed(facts: &[Fact], breakdowns: &[Option<Dimension>], k: i64) -> Vec<String> {
    let recs: Vec<(Option<Dimension>, Vec<Record>)> =
        breakdowns.iter().map(|by| (*by, records(facts.to_vec(), *by))).collect();
    let tables = release(&recs, k);
    let mut attacker = Attacker::default();
    for r in recs.iter().flat_map(|x| &x.1) {
        let name = metric_name(r.metric);
        attacker.categories.entry(name).or_default().insert(r.fact.category.clone().unwrap_or_default());
    }
    for i in CATALOGUE {
        let sels = match i.formula {
            Formula::Count { numerator } | Formula::Median { of: numerator } => vec![numerator],
            Formula::Share { numerator, denominator } => vec![numerator, denominator],
        };
        for s in sels {
            let set = attacker.categories.entry(metric_name(s.metric)).or_default();
            set.extend(s.categories.iter().map(|c| (*c).to_owned()));
        }
    }
    let districts: Vec<String> = DISTRICTS.iter().map(|d| (*d).to_owned()).collect();
    for t in &tables {
        attacker.read(t, &districts);
    }
    attacker.link();
    let truth = attacker.truth(&recs);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (what, figure) in &attacker.hidden {
        let mut key = figure.clone();
        key.sort_unstable();
        if !seen.insert(key) {
            continue;
        }
        if figure.iter().map(|i| truth.get(i).copied().unwrap_or(0)).sum::<i64>() == 0 {
            continue;
        }
        let (low, high) = attacker.bounds(figure);
        if low > 0.5 || high.is_some_and(|h| h < k as f64 - 0.5) {
            out.push(format!("{what}: [{low}, {high:?}]"));
        }
    }
    out
}

const DISTRICTS: [&str; 4] = ["TJ-KT.kulob", "TJ-KT.bokhtar", "TJ-SU.khujand", "TJ-SU.isfara"];

fn fact(measure: Measure, month: i64, d: usize, male: bool, category: &str, n: i64) -> Fact {
    Fact {
        measure,
        month: YEAR * 100 + month,
        district: DISTRICTS[d].to_owned(),
        sex: if male { "male" } else { "female" }.to_owned(),
        birth_year: 1990,
        destination: Some("RU".to_owned()),
        work_sector: None,
        category: Some(category.to_owned()),
        value: None,
        n,
    }
}

#[test]
fn a_self_harm_flag_in_one_district_cannot_be_narrowed_by_region_month_or_sex() {
    let mut facts = Vec::new();
    for m in 1..=12 {
        for d in 0..4 {
            facts.push(fact(Measure::Screened, m, d, m % 2 == 0, "phq9", 6 + (m + d as i64) % 5));
        }
    }
    // One flag, in one district and month: the case that linked tables used to give away.
    facts.push(fact(Measure::SelfHarm, 3, 1, true, "phq9", 1));
    facts.push(fact(Measure::SelfHarm, 7, 2, false, "phq9", 4));
    let problems =
        narrowed(&facts, &[None, Some(Dimension::Category), Some(Dimension::District), Some(Dimension::Region)], 5);
    assert!(problems.is_empty(), "{problems:#?}");
}

fn fact_strategy() -> impl Strategy<Value = Fact> {
    let measures = [Measure::Screened, Measure::Positive, Measure::SelfHarm, Measure::ReferralSent];
    (0usize..4, 1i64..=12, 0usize..4, any::<bool>(), 0usize..2, 1i64..12).prop_map(move |(m, month, d, male, c, n)| {
        let category = match measures[m] {
            Measure::ReferralSent => ["ngo", "employment"][c],
            _ => ["gad7", "phq9"][c],
        };
        fact(measures[m], month, d, male, category, n)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn no_hidden_figure_of_a_random_release_can_be_narrowed(
        facts in prop::collection::vec(fact_strategy(), 0..40),
        k in 2i64..6,
        sex in any::<bool>(),
    ) {
        let by = if sex { Some(Dimension::Sex) } else { Some(Dimension::District) };
        let problems = narrowed(&facts, &[None, Some(Dimension::Category), by], k);
        prop_assert!(problems.is_empty(), "{:#?}", problems);
    }
}

#[test]
fn tables_of_different_breakdowns_hide_the_same_national_figures() {
    // Each breakdown's release protects the national figures again; were that not the same every
    // time, one table would publish what another hides (here one instrument's yearly count).
    let facts = vec![
        fact(Measure::Screened, 1, 0, false, "phq9", 1),
        fact(Measure::Screened, 10, 0, false, "gad7", 1),
        fact(Measure::Screened, 10, 0, false, "phq9", 3),
        fact(Measure::Screened, 11, 0, false, "gad7", 4),
    ];
    let problems = narrowed(&facts, &[None, Some(Dimension::Category), Some(Dimension::District)], 2);
    assert!(problems.is_empty(), "{problems:#?}");
}
