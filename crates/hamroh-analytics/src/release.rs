//! A release: every figure the dashboard, the API and the files can publish for a calendar year,
//! protected together (see [`crate::protect`]).
//!
//! For one metric and one year, the release holds a cell for every selection of categories that an
//! indicator reads (and every single category where an indicator is broken down by category), for
//! every month, quarter and the year, for every column: the breakdown's values, the regions above
//! the districts, and the national total. They are one universe, so month and quarter, district
//! and region, one instrument and a group of instruments are protected as the linked sums they are.
//!
//! The national figures (no breakdown) are protected first; every breakdown is then protected with
//! the national figures fixed, moving records only within the national twin classes, and hiding any
//! figure whose national counterpart splits a class. So a move that proves one table safe changes
//! nothing published in another, and the breakdowns can be protected one at a time.
//!
//! A share's numerator is hidden wherever its denominator is, and where the share would be 0 % or
//! 100 % over a small group; denominators are protected first.
//!
//! Releases follow one another: a figure that was published before with another value is
//! published again only when it has changed by at least `k` from every value it was published
//! with; otherwise it is hidden and protected like a small count, so that no two releases can be
//! subtracted to show a few records added or removed. The values published are kept per universe
//! ([`universe_key`]) in the store's release history.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hamroh_store::releases::Published;

use crate::catalogue::{CATALOGUE, Formula, Metric, Selector};
use crate::dims::Dimension;
use crate::protect::{Protected, Universe, classes, memberships, protect};
use crate::table::Record;

/// A selection of categories: sorted codes joined by commas, `*` for all.
pub type CatSet = String;

fn cat_set(categories: &[&str]) -> CatSet {
    if categories.is_empty() {
        return "*".to_owned();
    }
    let mut c: Vec<&str> = categories.to_vec();
    c.sort_unstable();
    c.dedup();
    c.join(",")
}

/// A period of a release's year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Node {
    Month(i64),
    /// 1 to 4.
    Quarter(i64),
    Year,
}

impl Node {
    /// The node as it is named in the release history.
    fn code(self) -> String {
        match self {
            Node::Month(m) => format!("m{m}"),
            Node::Quarter(q) => format!("q{q}"),
            Node::Year => "y".to_owned(),
        }
    }

    /// The node's months up to `last`.
    fn months(self, last: i64) -> Vec<i64> {
        let all: Vec<i64> = match self {
            Node::Month(m) => vec![m],
            Node::Quarter(q) => (q * 3 - 2..=q * 3).collect(),
            Node::Year => (1..=12).collect(),
        };
        all.into_iter().filter(|m| *m <= last).collect()
    }

    /// The periods of a year whose months up to `last` have happened.
    fn all(last: i64) -> Vec<Node> {
        let mut out: Vec<Node> = (1..=last).map(Node::Month).collect();
        out.extend((1..=(last + 2) / 3).map(Node::Quarter));
        if last > 0 {
            out.push(Node::Year);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    metric: Metric,
    cats: CatSet,
    year: i64,
    node: Node,
    /// A breakdown value, a region, or `total`.
    column: String,
}

/// How much a release hid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Loss {
    pub cells: usize,
    pub hidden: usize,
    /// Hidden cells that count no one (zeros are hidden like small counts).
    pub zeros: usize,
    /// Hidden because below `k` or forced (a share of everyone in a small group, a hidden
    /// denominator).
    pub primary: usize,
    /// Universes where everything but the national figures had to be hidden.
    pub fell_back: usize,
    /// Hidden because they changed by fewer than `k` since a value they were published with.
    pub changed: usize,
}

impl Loss {
    /// Adds another release's loss.
    pub fn add(&mut self, other: &Loss) {
        self.cells += other.cells;
        self.hidden += other.hidden;
        self.zeros += other.zeros;
        self.primary += other.primary;
        self.fell_back += other.fell_back;
        self.changed += other.changed;
    }
}

/// Adds the values some figures were published with to those of others, by universe.
pub fn add_published(into: &mut BTreeMap<String, Published>, from: &BTreeMap<String, Published>) {
    for (universe, figures) in from {
        let kept = into.entry(universe.clone()).or_default();
        for (key, values) in figures {
            kept.entry(key.clone()).or_default().extend(values);
        }
    }
}

/// The protected figures of some years, for one breakdown.
#[derive(Debug, Clone, Default)]
pub struct Release {
    /// Each figure: hidden, and its count.
    figures: HashMap<Key, (bool, i64)>,
    /// National figures that split a twin class: their breakdowns are hidden.
    splits: HashMap<Key, bool>,
    /// The last month that has happened (`YYYYMM`): the current year's periods end there.
    as_of: i64,
    /// The figures this release publishes, by universe, for the release history.
    pub published: BTreeMap<String, Published>,
    pub loss: Loss,
}

/// The release history's name for one metric's figures for a year and a breakdown dimension
/// (`none` for the national figures, which every breakdown shares).
pub fn universe_key(metric: Metric, year: i64, dim: &str) -> String {
    format!("{metric:?}|{year}|{dim}")
}

/// The release history's name for a figure within its universe.
fn figure_key(key: &Key) -> String {
    format!("{}|{}|{}", key.cats, key.node.code(), key.column)
}

/// The universes a release of some metrics for some years and a breakdown reads and writes.
pub fn universes(metrics: impl IntoIterator<Item = Metric>, years: &[i64], by: Option<Dimension>) -> Vec<String> {
    let dim = history_dim(by);
    let mut out = Vec::new();
    for m in ordered(&closure(metrics)) {
        for &y in years {
            out.push(universe_key(m, y, "none"));
            if let Some(d) = dim {
                out.push(universe_key(m, y, d));
            }
        }
    }
    out
}

/// A breakdown's universe name (`None` for the national figures alone).
fn history_dim(by: Option<Dimension>) -> Option<&'static str> {
    match by {
        None | Some(Dimension::Category) => None,
        Some(b) => Some(crate::table::leaf(b).as_str()),
    }
}

/// What a breakdown's universe takes from the national one.
struct Lift<'a> {
    national: &'a Grid,
    classes: &'a NationalClasses,
}

/// What protects one universe: the threshold, the share rule's group size, and the values its
/// figures were published with before.
#[derive(Clone, Copy)]
struct Limits<'a> {
    k: i64,
    min_share_group: i64,
    history: &'a BTreeMap<String, Published>,
    /// The universe's breakdown dimension in the release history.
    dim: &'a str,
}

/// What a release covers: its years, the last month that has happened (`YYYYMM`), its breakdown,
/// and the disclosure settings.
#[derive(Debug, Clone)]
pub struct Scope {
    pub years: Vec<i64>,
    pub as_of: i64,
    pub by: Option<Dimension>,
    pub k: i64,
    pub min_share_group: i64,
}

/// The twin class of each national atom.
#[derive(Default)]
struct NationalClasses {
    of: Vec<u32>,
}

/// The column a record's key goes to: a district's region for the region breakdown.
pub fn column_of(by: Option<Dimension>, leaf: &str) -> String {
    match by {
        Some(Dimension::Region) => leaf.split('.').next().unwrap_or_default().to_owned(),
        _ => leaf.to_owned(),
    }
}

/// Every value a breakdown shows for a metric as a column (before regions): the values of the
/// records of the metric's family in the years.
pub fn leaves(records: &[Record], metric: Metric, years: impl IntoIterator<Item = i64>) -> Vec<String> {
    let years: Vec<i64> = years.into_iter().collect();
    let family = family(metric);
    let out: BTreeSet<String> = records
        .iter()
        .filter(|r| family.contains(&r.metric) && years.contains(&(r.fact.month / 100)))
        .map(|r| r.key.clone())
        .collect();
    out.into_iter().collect()
}

/// The categories of a selector that a release always holds, records or not: its own, or for a
/// selector of every category, every category an indicator names for the metric. A table by
/// category shows each of them, so that a missing column never says a count is zero.
pub fn named_categories(selector: &Selector) -> BTreeSet<&'static str> {
    if !selector.categories.is_empty() {
        return selector.categories.iter().copied().collect();
    }
    selections(selector.metric).0.into_iter().flatten().collect()
}

/// The selections of categories that indicators read from a metric, and the single categories
/// shown where an indicator is broken down by category (`None`: every category of the metric).
fn selections(metric: Metric) -> (Vec<Vec<&'static str>>, bool) {
    let mut sets: Vec<Vec<&'static str>> = Vec::new();
    let mut singles = false;
    for i in CATALOGUE {
        for s in i.formula.selectors().into_iter().filter(|s| s.metric == metric) {
            if !sets.contains(&s.categories.to_vec()) {
                sets.push(s.categories.to_vec());
            }
            singles |= i.category.is_some();
        }
    }
    (sets, singles)
}

/// Shares whose numerator is this metric: (numerator, denominator) selections.
fn shares_over(metric: Metric) -> Vec<(Selector, Selector)> {
    CATALOGUE
        .iter()
        .filter_map(|i| match i.formula {
            Formula::Share { numerator, denominator } if numerator.metric == metric => Some((numerator, denominator)),
            _ => None,
        })
        .collect()
}

/// Metrics in an order where every denominator comes before its numerators.
fn ordered(metrics: &BTreeSet<MetricKey>) -> Vec<Metric> {
    let mut all: Vec<Metric> = metrics.iter().map(|m| m.0).collect();
    all.sort_by_key(|m| !shares_over(*m).is_empty());
    all
}

/// A metric as a set member (metrics have no order of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MetricKey(Metric);

impl PartialOrd for MetricKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MetricKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0 as u8).cmp(&(other.0 as u8))
    }
}

/// A metric and those it shares a table with (numerators and denominators of one share): they
/// show the same breakdown values, so none of them has a column the others lack.
pub fn family(metric: Metric) -> Vec<Metric> {
    let mut out = vec![metric];
    loop {
        let before = out.len();
        for i in CATALOGUE {
            if let Formula::Share { numerator, denominator } = i.formula {
                for (a, b) in [(numerator.metric, denominator.metric), (denominator.metric, numerator.metric)] {
                    if out.contains(&a) && !out.contains(&b) {
                        out.push(b);
                    }
                }
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// The metrics a release needs for some metrics: their families.
fn closure(metrics: impl IntoIterator<Item = Metric>) -> BTreeSet<MetricKey> {
    metrics.into_iter().flat_map(family).map(MetricKey).collect()
}

/// One metric's atoms for a year: counts by category, month and breakdown value; with earlier
/// releases, in layers: what was counted at the first, and what was added by each later one.
struct Grid {
    /// The months of the year in the release.
    last: i64,
    /// 1, or one more than the earlier releases: layer 0 the counts at the first of them, layer
    /// `j` what was added between release `j - 1` and release `j` (the last layer: this one).
    layers: usize,
    categories: Vec<String>,
    leaves: Vec<String>,
    values: Vec<i64>,
    /// Atoms the attacker knows are empty: a layer's months after its release's last month, and a
    /// breakdown value or category that a release (at or after the layer) had no records of.
    zero: Vec<bool>,
}

/// The records an earlier release of the same breakdown was protected from, and the last month of
/// the year it held.
#[derive(Clone, Copy)]
struct Before<'a> {
    records: &'a [Record],
    last: i64,
}

impl Grid {
    /// `leaves`: the breakdown's values (`None`: the national grid, one column). `befores`: the
    /// earlier releases, oldest first.
    fn new(
        metric: Metric,
        year: i64,
        last: i64,
        records: &[Record],
        leaves: Option<&[String]>,
        befores: &[Before],
    ) -> Self {
        let breakdown = leaves.is_some();
        let (sets, _) = selections(metric);
        let named: BTreeSet<String> = sets.iter().flatten().map(|c| (*c).to_owned()).collect();
        fn mine(records: &[Record], metric: Metric, year: i64, last: i64) -> Vec<&Record> {
            let own = |r: &&Record| r.metric == metric && r.fact.month / 100 == year && r.fact.month % 100 <= last;
            records.iter().filter(own).collect()
        }
        let now = mine(records, metric, year, last);
        let then: Vec<Vec<&Record>> = befores.iter().map(|b| mine(b.records, metric, year, b.last)).collect();
        let mut categories: BTreeSet<&str> = named.iter().map(String::as_str).collect();
        for r in now.iter().chain(then.iter().flatten()) {
            categories.insert(r.fact.category.as_deref().unwrap_or_default());
        }
        let categories: Vec<String> = categories.into_iter().map(str::to_owned).collect();
        let leaves: Vec<String> = leaves.map_or_else(|| vec![String::new()], <[String]>::to_vec);
        let size = categories.len() * last as usize * leaves.len();
        let count = |records: &[&Record]| {
            let mut values = vec![0; size];
            for r in records {
                let category = r.fact.category.as_deref().unwrap_or_default();
                let c = categories.binary_search_by(|x| x.as_str().cmp(category)).unwrap_or(0);
                let l = if breakdown { leaves.binary_search(&r.key).unwrap_or(0) } else { 0 };
                let m = (r.fact.month % 100 - 1) as usize;
                values[(c * last as usize + m) * leaves.len() + l] += r.fact.n;
            }
            values
        };
        // Counts only grow; a record removed since (an entry made in error) is taken as never
        // counted, so the layers stay counts: each release's counts at most the next one's.
        let mut totals: Vec<Vec<i64>> = then.iter().map(|t| count(t)).collect();
        totals.push(count(&now));
        for j in (0..totals.len() - 1).rev() {
            let (head, tail) = totals.split_at_mut(j + 1);
            for (a, b) in head[j].iter_mut().zip(&tail[0]) {
                *a = (*a).min(*b);
            }
        }
        let layers = totals.len();
        let mut values = Vec::with_capacity(size * layers);
        for j in 0..layers {
            values.extend(totals[j].iter().enumerate().map(|(i, v)| v - if j == 0 { 0 } else { totals[j - 1][i] }));
        }
        // What each earlier release showed: its months, and the breakdown values and categories
        // it had records of (a table shows a column for each, so a missing one is a known zero).
        let mut zero = vec![false; size * layers];
        for (j, (b, t)) in befores.iter().zip(&then).enumerate() {
            let shown_leaves: BTreeSet<&str> = if breakdown {
                let mut family = self::leaves(b.records, metric, [year]);
                family.sort_unstable();
                leaves.iter().filter(|l| family.binary_search(l).is_ok()).map(String::as_str).collect()
            } else {
                leaves.iter().map(String::as_str).collect()
            };
            let shown_cats: BTreeSet<&str> = named
                .iter()
                .map(String::as_str)
                .chain(t.iter().map(|r| r.fact.category.as_deref().unwrap_or_default()))
                .collect();
            for (c, cat) in categories.iter().enumerate() {
                for m in 0..last as usize {
                    for (l, leaf) in leaves.iter().enumerate() {
                        if m as i64 >= b.last
                            || !shown_leaves.contains(leaf.as_str())
                            || !shown_cats.contains(cat.as_str())
                        {
                            // Empty at release j, so in every layer up to j.
                            for layer in 0..=j {
                                zero[((layer * categories.len() + c) * last as usize + m) * leaves.len() + l] = true;
                            }
                        }
                    }
                }
            }
        }
        Self { last, layers, categories, leaves, values, zero }
    }

    fn atom(&self, layer: usize, c: usize, m: usize, l: usize) -> u32 {
        (((layer * self.categories.len() + c) * self.last as usize + m) * self.leaves.len() + l) as u32
    }

    /// The category indices of a selection.
    fn select(&self, set: &[&str]) -> Vec<usize> {
        (0..self.categories.len()).filter(|&c| set.is_empty() || set.contains(&self.categories[c].as_str())).collect()
    }
}

/// A cell of a universe before protection: its key and atoms.
struct Draft {
    key: Key,
    atoms: Vec<u32>,
}

/// Which atoms a set of cells sums: the layers, and the months of the year it held.
#[derive(Clone)]
struct Span {
    layers: std::ops::Range<usize>,
    last: i64,
}

/// The cells of one metric's universe: selections by periods by columns (`columns` maps each
/// column to its leaves), and single categories for the national column when `singles`.
fn drafts(
    metric: Metric,
    year: i64,
    grid: &Grid,
    columns: &[(String, Vec<usize>)],
    singles: bool,
    span: Span,
) -> Vec<Draft> {
    let (sets, with_singles) = selections(metric);
    let mut choices: Vec<(CatSet, Vec<usize>, bool)> = Vec::new();
    for s in &sets {
        choices.push((cat_set(s), grid.select(s), false));
    }
    if singles && with_singles {
        for c in 0..grid.categories.len() {
            let code = cat_set(&[grid.categories[c].as_str()]);
            if !choices.iter().any(|x| x.0 == code) {
                choices.push((code, vec![c], true));
            }
        }
    }
    let mut out = Vec::new();
    for (cats, picked, national_only) in &choices {
        for node in Node::all(span.last) {
            let months = node.months(span.last);
            for (column, leaves) in columns {
                if *national_only && column != "total" {
                    continue;
                }
                let mut atoms = Vec::with_capacity(span.layers.len() * picked.len() * months.len() * leaves.len());
                for layer in span.layers.clone() {
                    for &c in picked {
                        for &m in &months {
                            for &l in leaves {
                                let a = grid.atom(layer, c, (m - 1) as usize, l);
                                if !grid.zero[a as usize] {
                                    atoms.push(a);
                                }
                            }
                        }
                    }
                }
                let key = Key { metric, cats: cats.clone(), year, node, column: column.clone() };
                out.push(Draft { key, atoms });
            }
        }
    }
    out
}

/// Protects a universe whose first `count` cells are this release's, the rest an earlier
/// release's and what each figure gained since: this release alone as any release, and with the
/// earlier one. Each protection starts from what the other hid, until neither hides more (hiding
/// more only merges twin classes, so what one proved protected stays so).
fn protect_alone_and_together(u: &Universe, count: usize, k: i64) -> Protected {
    if u.cells.len() == count {
        // Nothing an earlier release published or must keep protected: alone is all there is.
        return protect(&Universe { exempt: vec![false; count], ..u.clone() }, k);
    }
    let mut alone = Universe {
        cells: u.cells[..count].to_vec(),
        forced: u.forced[..count].to_vec(),
        fixed: u.fixed[..count].to_vec(),
        exempt: vec![false; count],
        ..u.clone()
    };
    let mut together = u.clone();
    loop {
        let first = protect(&alone, k);
        for (f, h) in together.forced.iter_mut().zip(&first.hidden) {
            *f |= *h;
        }
        let second = protect(&together, k);
        if (0..count).all(|i| second.hidden[i] == first.hidden[i]) {
            return Protected { fell_back: first.fell_back || second.fell_back, ..second };
        }
        for (f, h) in alone.forced.iter_mut().zip(&second.hidden) {
            *f |= *h;
        }
    }
}

/// An earlier release of the same breakdown and the records it was protected from: the next
/// release is protected together with it and the others given (see [`Release::protect`]).
#[derive(Clone, Copy)]
pub struct Earlier<'a> {
    pub records: &'a [Record],
    pub release: &'a Release,
}

impl Release {
    /// Protects the figures of `metrics` (and their denominators) for every year in `years`, for
    /// one breakdown. `records` carry the breakdown's finest value as their key (the district for
    /// regions and districts). `as_of` (`YYYYMM`) is the last month that has happened: later
    /// months are not figures but known zeros. `history`: the values figures were published with
    /// by earlier releases, by universe.
    ///
    /// With `earlier` (oldest first), the release is protected together with those, for an
    /// attacker who holds them all and knows that counts only grow: each universe then has a
    /// layer of atoms for the counts at the first earlier release and one for what each later
    /// release added; each earlier release's figures are sums over the layers up to its own, as it
    /// published or hid them, this release's over all layers, and what a figure gained between
    /// any two releases over the layers between them. Read together, a figure hidden by an
    /// earlier release must stay protected, and a gain of fewer than `k` can be 0 and can be `k`
    /// (a figure an earlier release did not have was a known zero, so all it counts is its gain);
    /// read alone, this release is protected as any release. The attacker knows which counts an
    /// earlier release could not have had (its months still to come, breakdown values and
    /// categories it showed no column for): those atoms are no one's twins.
    pub fn protect(
        records: &[Record],
        metrics: impl IntoIterator<Item = Metric>,
        scope: &Scope,
        history: &BTreeMap<String, Published>,
        earlier: &[Earlier],
    ) -> Self {
        let (as_of, by, k, min_share_group) = (scope.as_of, scope.by, scope.k, scope.min_share_group);
        let years = scope.years.clone();
        let mut release = Release { as_of, ..Release::default() };
        let breakdown = !matches!(by, None | Some(Dimension::Category));
        for metric in ordered(&closure(metrics)) {
            for &year in &years {
                let last = release.last_month(year);
                if last == 0 {
                    continue;
                }
                // The earlier releases that held some of the year.
                let then: Vec<(Before, &Release)> = earlier
                    .iter()
                    .filter_map(|e| {
                        let before_last = e.release.last_month(year).min(last);
                        (before_last > 0).then_some((Before { records: e.records, last: before_last }, e.release))
                    })
                    .collect();
                let befores: Vec<Before> = then.iter().map(|t| t.0).collect();
                let national = Grid::new(metric, year, last, records, None, &befores);
                let all: Vec<usize> = vec![0];
                let limits = Limits { k, min_share_group, history, dim: "none" };
                let columns = [("total".to_owned(), all)];
                let classes_of = release.add(metric, year, &national, &columns, None, &limits, &then);
                if !breakdown {
                    continue;
                }
                let mut leaves = leaves(records, metric, [year]);
                for b in &befores {
                    leaves.extend(self::leaves(b.records, metric, [year]));
                }
                leaves.sort_unstable();
                leaves.dedup();
                let grid = Grid::new(metric, year, last, records, Some(&leaves), &befores);
                let mut columns: Vec<(String, Vec<usize>)> =
                    grid.leaves.iter().enumerate().map(|(i, l)| (l.clone(), vec![i])).collect();
                if by == Some(Dimension::Region) || by == Some(Dimension::District) {
                    let mut regions: Vec<(String, Vec<usize>)> = Vec::new();
                    for (i, l) in grid.leaves.iter().enumerate() {
                        let r = column_of(Some(Dimension::Region), l);
                        match regions.iter_mut().find(|x| x.0 == r) {
                            Some(x) => x.1.push(i),
                            None => regions.push((r, vec![i])),
                        }
                    }
                    columns.extend(regions.into_iter().filter(|r| !grid.leaves.contains(&r.0)));
                }
                columns.push(("total".to_owned(), (0..grid.leaves.len()).collect()));
                let lift = Lift { national: &national, classes: &classes_of };
                let limits = Limits { dim: history_dim(by).unwrap_or("none"), ..limits };
                release.add(metric, year, &grid, &columns, Some(lift), &limits, &then);
            }
        }
        release
    }

    /// Protects one universe and records its figures; returns the twin class of each national atom
    /// (layer, category, month) when the universe is the national one. `then`: each earlier
    /// release's last month of the year, and the release, oldest first, one for each layer but
    /// the last.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        metric: Metric,
        year: i64,
        grid: &Grid,
        columns: &[(String, Vec<usize>)],
        lift: Option<Lift>,
        limits: &Limits,
        then: &[(Before, &Release)],
    ) -> NationalClasses {
        let Limits { k, min_share_group, history, dim } = *limits;
        let universe = universe_key(metric, year, dim);
        let earlier = history.get(&universe);
        let singles = lift.is_none();
        // This release's cells: their keys, and their atoms, which go to the universe.
        let (keys, cells): (Vec<Key>, Vec<Vec<u32>>) =
            self::drafts(metric, year, grid, columns, singles, Span { layers: 0..grid.layers, last: grid.last })
                .into_iter()
                .map(|d| (d.key, d.atoms))
                .unzip();
        let count = keys.len();
        let shape = [(grid.categories.len() * grid.layers) as u32, grid.last as u32, grid.leaves.len() as u32];
        let mut u = Universe {
            atom_values: grid.values.clone(),
            atom_group: vec![0; grid.values.len()],
            atom_coords: (0..grid.values.len() as u32)
                .map(|a| [a / (shape[1] * shape[2]), (a / shape[2]) % shape[1], a % shape[2]])
                .collect(),
            shape,
            cells,
            forced: vec![false; count],
            fixed: vec![None; count],
            exempt: vec![false; count],
        };
        if !then.is_empty() {
            // Each earlier release's figures over the layers up to its own, as it published or
            // hid them (a figure it did not have was not published). A hidden one that counts no
            // one is no target and, hidden, no constraint: it is left out.
            for (j, (before, earlier_release)) in then.iter().enumerate() {
                let span = Span { layers: 0..j + 1, last: before.last };
                for d in self::drafts(metric, year, grid, columns, singles, span) {
                    let hidden = earlier_release.figures.get(&d.key).is_none_or(|f| f.0);
                    let value: i64 = d.atoms.iter().map(|&a| grid.values[a as usize]).sum();
                    if !hidden || value > 0 {
                        u.fixed.push(Some(hidden));
                        u.cells.push(d.atoms);
                    }
                }
            }
            // What each figure gained between any two of the releases: never published, and
            // protected where it is more than none and fewer than `k` (others are no targets).
            let lasts: Vec<i64> = then.iter().map(|t| t.0.last).chain([grid.last]).collect();
            for since in 0..then.len() {
                for (to, &last) in lasts.iter().enumerate().skip(since + 1) {
                    let span = Span { layers: since + 1..to + 1, last };
                    for d in self::drafts(metric, year, grid, columns, singles, span) {
                        let value: i64 = d.atoms.iter().map(|&a| grid.values[a as usize]).sum();
                        if value > 0 && value < k {
                            u.fixed.push(Some(true));
                            u.cells.push(d.atoms);
                        }
                    }
                }
            }
            u.forced.resize(u.cells.len(), false);
            // Together with the earlier releases, this release's figures are judged by what they
            // gained (a figure it did not have was a known zero: a breakdown value without
            // records, a month still to come); alone, they are protected as any release's.
            u.exempt = (0..u.cells.len()).map(|i| i < count).collect();
        }
        if let Some(l) = &lift {
            let categories = grid.categories.len() as u32;
            for (a, coords) in u.atom_coords.iter().enumerate() {
                let (layer, c) = ((coords[0] / categories) as usize, (coords[0] % categories) as usize);
                let national_cat = l.national.categories.binary_search(&grid.categories[c]).unwrap_or(0);
                let national_atom = l.national.atom(layer, national_cat, coords[1] as usize, 0);
                u.atom_group[a] = l.classes.of[national_atom as usize];
            }
        }
        // A known zero is no twin of anything: records cannot be moved into it.
        for (a, zero) in grid.zero.iter().enumerate() {
            if *zero {
                u.atom_group[a] = u32::MAX - a as u32;
            }
        }
        let shares = shares_over(metric);
        for (i, key) in keys.iter().enumerate() {
            let national = Key { column: "total".to_owned(), ..key.clone() };
            if lift.is_some() && key.column == "total" {
                u.fixed[i] = Some(self.figures.get(key).is_none_or(|f| f.0));
                continue;
            }
            if lift.is_some() && self.splits.get(&national).copied().unwrap_or(true) {
                u.forced[i] = true;
            }
            let value = u.cell_value(i);
            // Shown again only unchanged, or changed by at least `k` from every value it was shown
            // with. (Not from the values it was hidden at: a figure that grows by one between any
            // two looks would never be shown again.)
            let shown = earlier.and_then(|p| p.get(&figure_key(key)));
            if shown.is_some_and(|values| values.iter().any(|&p| p != value && (p - value).abs() < k)) {
                u.forced[i] = true;
                self.loss.changed += 1;
            }
            for (num, den) in &shares {
                // The share's own selection, or one category of it where it is broken down by
                // category (its denominator then is the same category).
                let den_cats = if cat_set(num.categories) == key.cats {
                    cat_set(den.categories)
                } else if num.categories.contains(&key.cats.as_str()) && den.categories.contains(&key.cats.as_str()) {
                    key.cats.clone()
                } else {
                    continue;
                };
                let den_key = Key { metric: den.metric, cats: den_cats, ..key.clone() };
                match self.figures.get(&den_key) {
                    Some(&(hidden, den_value)) => {
                        let everyone = den_value > 0 && value == den_value && den_value < min_share_group;
                        u.forced[i] |= hidden || everyone;
                    }
                    None => u.forced[i] = true,
                }
            }
        }
        let mine = 0..count;
        self.loss.primary += mine.clone().filter(|&i| u.fixed[i].unwrap_or(u.forced[i] || u.cell_value(i) < k)).count();
        let result = protect_alone_and_together(&u, count, k);
        self.loss.cells += count;
        self.loss.hidden += mine.clone().filter(|&i| result.hidden[i]).count();
        self.loss.zeros += mine.clone().filter(|&i| result.hidden[i] && u.cell_value(i) == 0).count();
        self.loss.fell_back += usize::from(result.fell_back);
        let published = self.published.entry(universe).or_default();
        for (i, key) in keys.iter().enumerate() {
            let value = u.cell_value(i);
            self.figures.insert(key.clone(), (result.hidden[i], value));
            // A breakdown's total is the national figure, kept with the national universe.
            if !result.hidden[i] && (lift.is_none() || key.column != "total") {
                published.entry(figure_key(key)).or_default().insert(value);
            }
        }
        if lift.is_some() {
            return NationalClasses::default();
        }
        // Which national figures split a class of two or more atoms: their breakdowns must hide.
        let cls = classes(&u, &result.hidden, &memberships(&u));
        for (i, key) in keys.iter().enumerate() {
            let mut held: HashMap<u32, u32> = HashMap::new();
            for &a in &u.cells[i] {
                *held.entry(cls.of[a as usize]).or_default() += 1;
            }
            let splits = held.iter().any(|(&c, &n)| cls.size[c as usize] >= 2 && n < cls.size[c as usize]);
            self.splits.insert(key.clone(), splits);
        }
        NationalClasses { of: cls.of }
    }
}

impl Release {
    /// Every figure as (`metric|categories|year|period|column`, hidden, value), for a layer.
    pub(crate) fn figure_list(&self) -> Vec<(String, bool, i64)> {
        let mut out: Vec<(String, bool, i64)> = self
            .figures
            .iter()
            .map(|(key, &(hidden, value))| {
                let name = format!("{}|{}|{}", key.metric.as_str(), key.year, figure_key(key));
                (name, hidden, value)
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// A release from its [`Release::figure_list`]; `None` if a figure cannot be read.
    pub(crate) fn from_figure_list(as_of: i64, list: Vec<(String, bool, i64)>) -> Option<Self> {
        let mut figures = HashMap::with_capacity(list.len());
        for (name, hidden, value) in list {
            let mut parts = name.splitn(5, '|');
            let metric = Metric::parse(parts.next()?)?;
            let year: i64 = parts.next()?.parse().ok()?;
            let cats = parts.next()?.to_owned();
            let node = match parts.next()? {
                "y" => Node::Year,
                code if code.starts_with('q') => Node::Quarter(code[1..].parse().ok()?),
                code if code.starts_with('m') => Node::Month(code[1..].parse().ok()?),
                _ => return None,
            };
            let column = parts.next()?.to_owned();
            figures.insert(Key { metric, cats, year, node, column }, (hidden, value));
        }
        Some(Release { figures, as_of, ..Release::default() })
    }

    /// Adds another year's release of the same breakdown.
    pub fn merge(&mut self, other: Release) {
        self.as_of = self.as_of.max(other.as_of);
        self.figures.extend(other.figures);
        self.splits.extend(other.splits);
        add_published(&mut self.published, &other.published);
        self.loss.add(&other.loss);
    }

    /// The last month of a year that the release holds figures for (0: none).
    fn last_month(&self, year: i64) -> i64 {
        match year.cmp(&(self.as_of / 100)) {
            std::cmp::Ordering::Less => 12,
            std::cmp::Ordering::Equal => self.as_of % 100,
            std::cmp::Ordering::Greater => 0,
        }
    }

    /// Whether the sum of a metric's selection over some months (`YYYYMM`, of any years) in a
    /// column is hidden: it is published only when every release figure it is made of is, taking
    /// whole years and quarters where the months cover them (in the current year, the months of
    /// them that have happened, so a year or quarter to date is one figure).
    pub fn hidden(&self, metric: Metric, cats: &[&str], months: &[i64], column: &str) -> bool {
        let cats = cat_set(cats);
        let years: BTreeSet<i64> = months.iter().map(|m| m / 100).collect();
        let mut any = false;
        for year in years {
            let last = self.last_month(year);
            let mine: BTreeSet<i64> = months.iter().filter(|m| *m / 100 == year).map(|m| m % 100).collect();
            let covers = |node: Node| {
                let all = node.months(last);
                !all.is_empty() && all.iter().all(|m| mine.contains(m))
            };
            let mut nodes = Vec::new();
            if covers(Node::Year) {
                nodes.push(Node::Year);
            } else {
                for q in 1..=4 {
                    if covers(Node::Quarter(q)) {
                        nodes.push(Node::Quarter(q));
                    } else {
                        let happened = Node::Quarter(q).months(last);
                        nodes.extend(happened.into_iter().filter(|m| mine.contains(m)).map(Node::Month));
                    }
                }
            }
            // Months still to come are not figures; a period made only of them shows nothing.
            any |= nodes.is_empty() && !mine.is_empty();
            for node in nodes {
                let key = Key { metric, cats: cats.clone(), year, node, column: column.to_owned() };
                any |= self.figures.get(&key).is_none_or(|f| f.0);
            }
        }
        any
    }
}
