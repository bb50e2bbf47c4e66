//! An attacker who solves a whole release as a linear program, on random data, planted cases and
//! the demo data set as each backend stores it.
//!
//! The attacker reads every table of one year that the dashboard, API and files publish: every
//! indicator, by no breakdown, by category, by region, by district and by sex, per month, quarter
//! and year. The unknowns are the counts of each metric by category and month, nationally and by
//! each breakdown's values (every breakdown adds up to the national counts), none negative. Every
//! published figure is an equation. For each hidden figure the attacker minimises and maximises it;
//! the release fails if any hidden figure that counts anyone is bounded away from 0 or from `k`.
//! (A hidden figure that counts no one may be bounded: that tells nothing about a person.)
//!
//! Across releases, the attacker reads several, with unknowns for each time, knows that records
//! were only added in between (every count at a later time is at least the one before; a count
//! that no figure of a release held, such as a month still to come, was none), and bounds what
//! was added to each figure between any two of them: a release fails if any figure that gained
//! fewer than `k` records can be shown to have gained one, or to have gained fewer than `k`.
//! Random data sets are released two and three times, the same month or months apart; the demo
//! data set three times through the store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hamroh_analytics::catalogue::{Formula, Metric, Selector};
use hamroh_analytics::layer::Layer;
use hamroh_analytics::release::{Earlier, Release, add_published};
use hamroh_analytics::table::{Record, build_from, records, release_after};
use hamroh_analytics::{CATALOGUE, Dimension, PeriodKind, Query, Table};
use hamroh_store::facts::{Fact, Measure};
use hamroh_store::releases::Published;
use microlp::{ComparisonOp, OptimizationDirection, Problem};
use proptest::prelude::*;

const YEAR: i64 = 2026;

/// A figure as a set of unknowns.
type Figure = Vec<usize>;

/// Which breakdown an unknown belongs to: `None` for the national counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Unknown {
    /// Which release: 0, then 1.
    time: u8,
    metric: String,
    category: String,
    month: i64,
    breakdown: Option<(String, String)>,
}

/// A linear constraint: terms, relation, right-hand side.
type Constraint = (Vec<(usize, f64)>, ComparisonOp, f64);

#[derive(Default)]
struct Attacker {
    unknowns: BTreeMap<Unknown, usize>,
    /// What the attacker knows: published sums, breakdowns adding up, counts only growing.
    constraints: Vec<Constraint>,
    /// Hidden figures: what they are, in which release, and their unknowns.
    hidden: Vec<(String, u8, Figure)>,
    /// Every figure read, hidden or not: what it is, when, and its unknowns.
    figures: Vec<(String, u8, Figure)>,
    /// The release being read.
    time: u8,
    /// The last month of the year with figures (0: December); later months are known zeros.
    last: i64,
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
            let last = if self.last == 0 { 12 } else { self.last };
            for m in months_of(row).into_iter().filter(|m| *m <= last) {
                for b in &breakdown {
                    out.push(self.unknown(Unknown {
                        time: self.time,
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
                    let what = format!(
                        "{id} {} by {:?} {row} {column}",
                        if *is_numerator { "numerator" } else { "denominator" },
                        table.by
                    );
                    self.figures.push((what.clone(), self.time, figure.clone()));
                    match value {
                        Some(v) => {
                            let terms = figure.iter().map(|&i| (i, 1.0)).collect();
                            self.constraints.push((terms, ComparisonOp::Eq, v as f64));
                        }
                        None => self.hidden.push((what, self.time, figure)),
                    }
                }
            }
        }
    }

    /// The true value of each unknown, from the records behind the release.
    fn truth(&self, recs: &[(Option<Dimension>, Vec<Record>)], time: u8) -> HashMap<usize, i64> {
        let mut out = HashMap::new();
        for (by, records) in recs {
            let breakdown = |r: &Record| match by {
                None | Some(Dimension::Category) => None,
                Some(Dimension::Region | Dimension::District) => Some(("district".to_owned(), r.key.clone())),
                Some(b) => Some((b.as_str().to_owned(), r.key.clone())),
            };
            for r in records {
                let u = Unknown {
                    time,
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

    /// Every breakdown adds up to the national counts; and, across releases, no count shrank.
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
            let mut terms: Vec<(usize, f64)> = parts.into_iter().map(|i| (i, 1.0)).collect();
            terms.push((n, -1.0));
            self.constraints.push((terms, ComparisonOp::Eq, 0.0));
        }
        let later: Vec<(Unknown, usize)> =
            self.unknowns.iter().filter(|(u, _)| u.time > 0).map(|(u, &i)| (u.clone(), i)).collect();
        for (u, i) in later {
            // A count no figure of the release before held was none (a month still to come, a
            // breakdown value or category without records): nothing to compare.
            if let Some(&before) = self.unknowns.get(&Unknown { time: u.time - 1, ..u }) {
                self.constraints.push((vec![(i, 1.0), (before, -1.0)], ComparisonOp::Ge, 0.0));
            }
        }
    }

    /// The least and greatest value of a sum of unknowns (`None`: unbounded above). Metrics share
    /// no unknowns, so only the constraints of the sum's metric are solved.
    fn bounds(&self, objective: &[(usize, f64)]) -> (f64, Option<f64>) {
        let metric_of: HashMap<usize, &str> = self.unknowns.iter().map(|(u, &i)| (i, u.metric.as_str())).collect();
        let metric = metric_of[&objective[0].0];
        let local: BTreeMap<usize, usize> = metric_of
            .iter()
            .filter(|(_, m)| **m == metric)
            .map(|(i, _)| *i)
            .collect::<BTreeSet<usize>>()
            .into_iter()
            .enumerate()
            .map(|(l, g)| (g, l))
            .collect();
        let weight: HashMap<usize, f64> = objective.iter().copied().collect();
        let solve = |direction| {
            let mut p = Problem::new(direction);
            let vars: Vec<_> =
                local.keys().map(|i| p.add_var(weight.get(i).copied().unwrap_or(0.0), (0.0, f64::INFINITY))).collect();
            for (terms, op, rhs) in self.constraints.iter().filter(|(t, _, _)| local.contains_key(&t[0].0)) {
                let terms: Vec<_> = terms.iter().map(|(i, w)| (vars[local[i]], *w)).collect();
                p.add_constraint(terms.as_slice(), *op, *rhs);
            }
            p.solve()
        };
        // A difference of figures can be unbounded below (one release's figure had unknowns the
        // other's has not); a sum of counts cannot.
        let low = match solve(OptimizationDirection::Minimize) {
            Ok(s) => s.objective(),
            Err(microlp::Error::Unbounded) => f64::NEG_INFINITY,
            Err(e) => panic!("the true counts are a solution: {e}"),
        };
        let high = solve(OptimizationDirection::Maximize).ok().map(|s| s.objective());
        (low, high)
    }
}

/// What one release of every breakdown was protected from and what it decided, by breakdown.
type Previous = Vec<(Vec<Record>, Release)>;

/// The releases a new one is protected together with, oldest first: as many as the store keeps.
type Stack = Vec<Previous>;

/// Every table of the year, as the dashboard publishes them, protected against the values
/// published before (`history`) and together with the release before (`layer`); adds what this
/// release published to `history` and makes it the release before.
fn release(
    recs: &[(Option<Dimension>, Vec<Record>)],
    k: i64,
    history: &mut BTreeMap<String, Published>,
    layers: &mut Stack,
) -> Vec<Table> {
    release_at(recs, k, 12, history, layers)
}

/// [`release`] when `last` is the last month of the year that has happened.
fn release_at(
    recs: &[(Option<Dimension>, Vec<Record>)],
    k: i64,
    last: i64,
    history: &mut BTreeMap<String, Published>,
    layers: &mut Stack,
) -> Vec<Table> {
    let indicators: Vec<_> = CATALOGUE.iter().collect();
    let before = history.clone();
    let mut out = Vec::new();
    let mut next = Previous::new();
    for (b, (by, records)) in recs.iter().enumerate() {
        let earlier: Vec<Earlier> =
            layers.iter().map(|layer| Earlier { records: &layer[b].0, release: &layer[b].1 }).collect();
        for period in [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
            let q = Query {
                from: YEAR * 100 + 1,
                to: YEAR * 100 + 12,
                period,
                by: *by,
                k,
                min_share_group: 10,
                as_of: YEAR * 100 + last,
            };
            let release = release_after(&indicators, records, &q, &before, &earlier);
            out.extend(indicators.iter().map(|i| build_from(i, records, &q, &release)));
            add_published(history, &release.published);
            if period == PeriodKind::Year {
                next.push((records.clone(), release));
            }
        }
    }
    layers.push(next);
    let kept = hamroh_store::releases::EARLIER_LAYERS_KEPT as usize + 1;
    if layers.len() > kept {
        layers.drain(..layers.len() - kept);
    }
    out
}

/// Every count the attacker learns a metric may have a category of.
fn learn_categories(attacker: &mut Attacker, recs: &[(Option<Dimension>, Vec<Record>)]) {
    for r in recs.iter().flat_map(|x| &x.1) {
        let name = metric_name(r.metric);
        attacker.categories.entry(name).or_default().insert(r.fact.category.clone().unwrap_or_default());
    }
    for i in CATALOGUE {
        for s in i.formula.selectors() {
            let set = attacker.categories.entry(metric_name(s.metric)).or_default();
            set.extend(s.categories.iter().map(|c| (*c).to_owned()));
        }
    }
}

fn sum(figure: &[usize], truth: &HashMap<usize, i64>) -> i64 {
    figure.iter().map(|i| truth.get(i).copied().unwrap_or(0)).sum()
}

/// What the attacker can tell that it should not, after reading one release of `facts` or, when
/// `later` is given, that release and a second one after the `later` facts were added.
/// That is any hidden figure of either release that counts anyone, or any gain of fewer than `k`,
/// that cannot be 0 or cannot be `k`.
fn exposed(facts: &[Fact], later: Option<&[Fact]>, breakdowns: &[Option<Dimension>], k: i64) -> Vec<String> {
    let later: Vec<(&[Fact], i64)> = later.map(|l| (l, 12)).into_iter().collect();
    exposed_over(facts, 12, &later, breakdowns, k)
}

/// [`exposed`] with the first release made when `last` was the last month of the year that had
/// happened, and the second when the month given with `later` was: the first release holds none
/// of the facts dated after its month, the second all of them.
fn exposed_at(
    facts: &[Fact],
    later: Option<(&[Fact], i64)>,
    breakdowns: &[Option<Dimension>],
    k: i64,
    last: i64,
) -> Vec<String> {
    exposed_over(facts, last, later.as_slice(), breakdowns, k)
}

/// What an attacker can tell that it should not from a release of `facts` made when `last` was
/// the last month that had happened, and one more release after each of `later`'s facts were
/// added, each at its month. Every attacker reads from one release to the last.
fn exposed_over(
    facts: &[Fact],
    last: i64,
    later: &[(&[Fact], i64)],
    breakdowns: &[Option<Dimension>],
    k: i64,
) -> Vec<String> {
    let recs = |facts: &[Fact]| -> Vec<(Option<Dimension>, Vec<Record>)> {
        breakdowns.iter().map(|by| (*by, records(facts.to_vec(), *by))).collect()
    };
    let happened =
        |facts: &[Fact], last: i64| -> Vec<Fact> { facts.iter().filter(|f| f.month % 100 <= last).cloned().collect() };
    let mut all = facts.to_vec();
    let mut releases = vec![(recs(&happened(&all, last)), last)];
    for (more, then) in later {
        all.extend_from_slice(more);
        releases.push((recs(&happened(&all, *then)), *then));
    }
    let districts: Vec<String> = DISTRICTS.iter().map(|d| (*d).to_owned()).collect();
    let mut history = BTreeMap::new();
    let mut layers = Stack::new();
    let tables: Vec<Vec<Table>> =
        releases.iter().map(|(r, last)| release_at(r, k, *last, &mut history, &mut layers)).collect();
    let mut problems = Vec::new();
    for first in 0..tables.len() {
        let mut attacker = Attacker::default();
        for (time, ((r, last), t)) in releases.iter().zip(&tables).enumerate().skip(first) {
            learn_categories(&mut attacker, r);
            attacker.time = time as u8;
            attacker.last = *last;
            for t in t {
                attacker.read(t, &districts);
            }
        }
        attacker.link();
        let truth: HashMap<usize, i64> =
            releases.iter().enumerate().flat_map(|(time, (r, _))| attacker.truth(r, time as u8)).collect();
        problems.extend(judge(&attacker, &truth, k).into_iter().map(|p| format!("reading from release {first}: {p}")));
    }
    problems
}

/// The figures the attacker, having read every release, can bound when it should not.
fn judge(attacker: &Attacker, truth: &HashMap<usize, i64>, k: i64) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut check = |what: &str, objective: Vec<(usize, f64)>, true_value: i64| {
        let mut key: Vec<(usize, i64)> = objective.iter().map(|(i, w)| (*i, *w as i64)).collect();
        key.sort_unstable();
        if true_value == 0 || !seen.insert(key) {
            return;
        }
        let (low, high) = attacker.bounds(&objective);
        if low > 0.5 || high.is_some_and(|h| h < k as f64 - 0.5) {
            out.push(format!("{what}: [{low}, {high:?}]"));
        }
    };
    // The figures of the first release read: what they count.
    let first = attacker.figures.iter().map(|f| f.1).min().unwrap_or(0);
    for (what, time, figure) in attacker.hidden.iter().filter(|h| h.1 == first) {
        check(&format!("{what} in release {time}"), figure.iter().map(|&i| (i, 1.0)).collect(), sum(figure, truth));
    }
    // Between any two releases read, what each figure gained, where that is fewer than `k`
    // records (a gain of `k` or more may be known, like a count of `k` or more may be published).
    // A figure the earlier release did not have was a known zero (a breakdown value without
    // records, a month still to come): it gained all it counts. The attacker may know that a
    // figure is at least what it was.
    let at = |time: u8| -> HashMap<&str, &Figure> {
        attacker.figures.iter().filter(|f| f.1 == time).map(|(w, _, f)| (w.as_str(), f)).collect()
    };
    let last = attacker.figures.iter().map(|f| f.1).max().unwrap_or(0);
    let nothing = Figure::new();
    for since in first..last {
        let before = at(since);
        for (what, time, after) in attacker.figures.iter().filter(|f| f.1 > since) {
            let then = before.get(what.as_str()).copied().unwrap_or(&nothing);
            let mut objective: Vec<(usize, f64)> = after.iter().map(|&i| (i, 1.0)).collect();
            objective.extend(then.iter().map(|&i| (i, -1.0)));
            let gained = sum(after, truth) - sum(then, truth);
            if gained < k {
                check(&format!("{what} gained from release {since} to {time}"), objective, gained);
            }
        }
    }
    out
}

/// The hidden figures of one release an attacker can bound away from 0 or `k`, described.
fn narrowed(facts: &[Fact], breakdowns: &[Option<Dimension>], k: i64) -> Vec<String> {
    exposed(facts, None, breakdowns, k)
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

    #[test]
    fn no_figure_of_two_random_releases_read_together_can_be_narrowed(
        facts in prop::collection::vec(fact_strategy(), 0..30),
        later in prop::collection::vec(fact_strategy(), 1..8),
        k in 2i64..6,
        sex in any::<bool>(),
    ) {
        // Both releases of every breakdown, made at the same two times; the attacker knows counts
        // only grew in between.
        let by = if sex { Some(Dimension::Sex) } else { Some(Dimension::District) };
        let problems = exposed(&facts, Some(&later), &[None, Some(Dimension::Category), by], k);
        prop_assert!(problems.is_empty(), "{:#?}", problems);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn no_figure_of_two_random_releases_months_apart_can_be_narrowed(
        facts in prop::collection::vec(fact_strategy(), 0..30),
        later in prop::collection::vec(fact_strategy(), 1..8),
        k in 2i64..6,
        first in 1i64..12,
        months in 1i64..4,
        sex in any::<bool>(),
    ) {
        // The second release a month or more after the first: the months in between were known
        // zeros when the first was made, and the attacker knows it.
        let by = if sex { Some(Dimension::Sex) } else { Some(Dimension::District) };
        let then = (first + months).min(12);
        let problems = exposed_at(&facts, Some((&later, then)), &[None, Some(Dimension::Category), by], k, first);
        prop_assert!(problems.is_empty(), "{:#?}", problems);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn no_figure_of_three_random_releases_read_together_can_be_narrowed(
        facts in prop::collection::vec(fact_strategy(), 0..30),
        second in prop::collection::vec(fact_strategy(), 1..6),
        third in prop::collection::vec(fact_strategy(), 1..6),
        k in 2i64..6,
        months in (6i64..=12, 0i64..3, 0i64..3),
        sex in any::<bool>(),
    ) {
        // Three releases, each protected together with those before it; some a month or two
        // apart, some the same month.
        let by = if sex { Some(Dimension::Sex) } else { Some(Dimension::District) };
        let (first, a, b) = months;
        let later = [(second.as_slice(), (first + a).min(12)), (third.as_slice(), (first + a + b).min(12))];
        let problems = exposed_over(&facts, first, &later, &[None, Some(Dimension::Category), by], k);
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

#[test]
fn one_person_added_in_a_district_cannot_be_told_from_the_release_before() {
    let mut facts = Vec::new();
    for m in 1..=12 {
        for d in 0..4 {
            facts.push(fact(Measure::Screened, m, d, m % 2 == 0, "phq9", 6 + (m + d as i64) % 5));
            facts.push(fact(Measure::SelfHarm, m, d, m % 2 == 1, "phq9", 5 + (m * d as i64) % 3));
        }
    }
    // Between the releases: one more screening with a self-harm flag, in one district and month.
    let later = [fact(Measure::Screened, 5, 2, true, "phq9", 1), fact(Measure::SelfHarm, 5, 2, true, "phq9", 1)];
    let problems = exposed(
        &facts,
        Some(&later),
        &[None, Some(Dimension::Category), Some(Dimension::District), Some(Dimension::Region)],
        5,
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Every figure of a release: (what it is, its value), hidden ones left out.
fn shown(tables: &[Table]) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in tables {
        for (r, row) in t.rows.iter().enumerate() {
            for (c, column) in t.columns.iter().enumerate() {
                let cell = &t.cells[r][c];
                let what = format!("{} by {:?} {row} {column}", t.indicator.id, t.by);
                out.extend(cell.numerator.map(|v| (format!("{what} numerator"), v)));
                out.extend(cell.denominator.map(|v| (format!("{what} denominator"), v)));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn no_figure_is_shown_again_changed_by_fewer_than_k(
        batches in prop::collection::vec(prop::collection::vec(fact_strategy(), 1..12), 2..5),
        k in 2i64..6,
    ) {
        // Releases one after another as records arrive; each figure's values across all of them
        // are equal or at least k apart, whichever breakdown showed them.
        let breakdowns = [None, Some(Dimension::Category), Some(Dimension::District), Some(Dimension::Region)];
        let mut history = BTreeMap::new();
        let mut layers = Stack::new();
        let mut facts = Vec::new();
        let mut seen: HashMap<String, BTreeSet<i64>> = HashMap::new();
        for batch in batches {
            facts.extend(batch);
            let recs: Vec<(Option<Dimension>, Vec<Record>)> =
                breakdowns.iter().map(|by| (*by, records(facts.clone(), *by))).collect();
            for (what, v) in shown(&release(&recs, k, &mut history, &mut layers)) {
                let earlier = seen.entry(what.clone()).or_default();
                for p in earlier.iter() {
                    prop_assert!(*p == v || (p - v).abs() >= k, "{what}: {p} then {v}");
                }
                earlier.insert(v);
            }
        }
    }
}

async fn the_demo_data_sets_flags_and_positive_screens_cannot_be_narrowed(db: &hamroh_store::testing::TestDb) {
    // The demo data set, stored; the figures read back through the cube as the dashboard does,
    // on this backend: self-harm flags, and positive depression screens over the screenings, by
    // month, quarter and year, nationally, by instrument, by district and by region.
    let dir = hamroh_demo::directory();
    let actor = hamroh_store::Actor::system("test");
    db.store.insert_batch(&actor, &dir.batch("$argon2id$not-a-real-hash")).await.unwrap();
    let config = hamroh_demo::DemoConfig { people: 3000, seed: 11, as_of: jiff::civil::date(2026, 10, 31) };
    let mut people = hamroh_demo::DemoPeople::new(config, &dir);
    while let Some(batch) = people.next_chunk(200) {
        db.store.insert_batch(&actor, &batch).await.unwrap();
    }
    let facts = db.store.facts(YEAR * 100 + 1, YEAR * 100 + 12, i64::MIN).await.unwrap();
    assert!(facts.iter().any(|f| f.measure == Measure::SelfHarm), "the data set has self-harm flags");
    let districts: Vec<String> =
        facts.iter().map(|f| f.district.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let to = hamroh_analytics::Recipient { user_id: None, organisation_id: None, channel: "test".to_owned() };
    let indicators: Vec<_> =
        ["self_harm_flags", "depression_positive"].iter().map(|i| hamroh_analytics::indicator(i).unwrap()).collect();
    let breakdowns = [None, Some(Dimension::Category), Some(Dimension::District), Some(Dimension::Region)];
    let recs: Vec<(Option<Dimension>, Vec<Record>)> =
        breakdowns.iter().map(|by| (*by, records(facts.clone(), *by))).collect();
    let mut attacker = Attacker { last: 10, ..Attacker::default() };
    learn_categories(&mut attacker, &recs);
    for by in breakdowns {
        for period in [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
            let q = Query {
                from: YEAR * 100 + 1,
                to: YEAR * 100 + 10,
                period,
                by,
                k: 5,
                min_share_group: 10,
                as_of: YEAR * 100 + 10,
            };
            for t in hamroh_analytics::tables(&db.store, &indicators, &q, i64::MIN, &to).await.unwrap() {
                attacker.read(&t, &districts);
            }
        }
    }
    attacker.link();
    let truth = attacker.truth(&recs, 0);
    let problems = judge(&attacker, &truth, 5);
    assert!(problems.is_empty(), "{problems:#?}");
    let shown = attacker.figures.len() - attacker.hidden.len();
    assert!(shown > 0 && !attacker.hidden.is_empty(), "some shown, some hidden");
}

async fn three_releases_of_the_demo_data_set_read_together_cannot_be_narrowed(db: &hamroh_store::testing::TestDb) {
    // The demo data set stored on this backend, released through the store as the dashboard
    // releases it; then more people are added and everything is released again, twice. The
    // attacker reads every release, every period, nationally, by instrument, by district and by
    // region.
    let dir = hamroh_demo::directory();
    let actor = hamroh_store::Actor::system("test");
    db.store.insert_batch(&actor, &dir.batch("$argon2id$not-a-real-hash")).await.unwrap();
    let config = hamroh_demo::DemoConfig { people: 1600, seed: 5, as_of: jiff::civil::date(2026, 10, 31) };
    let mut people = hamroh_demo::DemoPeople::new(config, &dir);
    let to = hamroh_analytics::Recipient { user_id: None, organisation_id: None, channel: "test".to_owned() };
    let indicators: Vec<_> =
        ["self_harm_flags", "depression_positive"].iter().map(|i| hamroh_analytics::indicator(i).unwrap()).collect();
    let breakdowns = [None, Some(Dimension::Category), Some(Dimension::District), Some(Dimension::Region)];
    let mut attacker = Attacker { last: 10, ..Attacker::default() };
    let mut truths = Vec::new();
    let mut districts = BTreeSet::new();
    for (time, chunks) in [[100; 15].as_slice(), &[4], &[3]].into_iter().enumerate() {
        for &chunk in chunks {
            let batch = people.next_chunk(chunk).unwrap();
            db.store.insert_batch(&actor, &batch).await.unwrap();
        }
        let facts = db.store.facts(YEAR * 100 + 1, YEAR * 100 + 12, i64::MIN).await.unwrap();
        districts.extend(facts.iter().map(|f| f.district.clone()));
        let recs: Vec<(Option<Dimension>, Vec<Record>)> =
            breakdowns.iter().map(|by| (*by, records(facts.clone(), *by))).collect();
        learn_categories(&mut attacker, &recs);
        attacker.time = time as u8;
        let districts: Vec<String> = districts.iter().cloned().collect();
        for by in breakdowns {
            for period in [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::Year] {
                let q = Query {
                    from: YEAR * 100 + 1,
                    to: YEAR * 100 + 10,
                    period,
                    by,
                    k: 5,
                    min_share_group: 10,
                    as_of: YEAR * 100 + 10,
                };
                for t in hamroh_analytics::tables(&db.store, &indicators, &q, i64::MIN, &to).await.unwrap() {
                    attacker.read(&t, &districts);
                }
            }
        }
        truths.push(recs);
    }
    attacker.link();
    let truth: HashMap<usize, i64> =
        truths.iter().enumerate().flat_map(|(time, r)| attacker.truth(r, time as u8)).collect();
    let problems = judge(&attacker, &truth, 5);
    assert!(problems.is_empty(), "{problems:#?}");
    let changed = attacker.figures.iter().filter(|f| f.1 == 2).count();
    assert!(changed > 0, "the third release was read");
    // The year's last layer is the third release, the first two are kept before it: the next
    // release is protected together with all three.
    let before = db.store.earlier_layers(YEAR).await.unwrap();
    assert_eq!(before.len(), 2, "the first and second releases' layers");
    assert!(before.iter().all(|b| Layer::from_json(b).is_some()), "they can be read");
    let kept = db.store.release_history(&[], &[YEAR]).await.unwrap();
    let layer = Layer::from_json(&kept.layers[&YEAR]).expect("the year's layer can be read");
    let flags = |records: &[Record]| -> i64 {
        records.iter().filter(|r| r.metric == Metric::SelfHarm && r.fact.month % 100 <= 10).map(|r| r.fact.n).sum()
    };
    let national = &truths[2][0].1;
    assert!(flags(national) > 0);
    assert_eq!(flags(&layer.breakdowns[0].0), flags(national), "the layer holds the third release's counts");
    assert_eq!(layer.as_of, YEAR * 100 + 10);
}

hamroh_store::on_both_backends!(
    the_demo_data_sets_flags_and_positive_screens_cannot_be_narrowed,
    three_releases_of_the_demo_data_set_read_together_cannot_be_narrowed
);

#[test]
fn a_figure_hidden_by_the_share_rule_stays_protected_when_the_release_before_had_none_of_its_metric() {
    // Positive screens only in the second release, one sex of them without screenings: its
    // figure is hidden by the share rule, and the other sex's figure must not give it away
    // through the total, although the first release holds nothing to protect together.
    let facts = [fact(Measure::Screened, 1, 0, false, "gad7", 2)];
    let later = [fact(Measure::Positive, 1, 0, true, "gad7", 2), fact(Measure::Positive, 1, 0, false, "gad7", 3)];
    let problems = exposed(&facts, Some(&later), &[None, Some(Dimension::Category), Some(Dimension::Sex)], 2);
    assert!(problems.is_empty(), "{problems:#?}");
}
