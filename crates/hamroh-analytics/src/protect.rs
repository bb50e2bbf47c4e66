//! Protection intervals: which cells of a set of linked tables to hide so that no hidden count can
//! be narrowed, whatever an attacker does with the published ones.
//!
//! A *universe* is a grid of atoms (the finest counts, never published themselves) and cells, each
//! the sum of a set of atoms: every table of a release that shares counts is one universe, so
//! linked tables are protected together. The attacker knows every published cell and that atoms
//! are not negative, and solves for a hidden cell as a linear program.
//!
//! The guarantee is shown by construction. Two atoms are *twins* when every published cell holds
//! both or neither: moving records from one to the other changes no published figure. The twins
//! form classes; a class's records can be spread over its atoms in any way. So a hidden cell can be
//! 0 when every class it holds whole has no records, and can reach `k` when the classes it touches
//! hold at least `k` records between them (a class in no published cell can hold any number). When
//! both hold for every hidden cell that counts anyone, every such cell's interval contains
//! `[0, k]`. A hidden cell that counts no one (zeros are hidden like small counts, so that hiding
//! does not say "at least one") needs nothing: bounding it, even to exactly 0, tells nothing
//! about a person, and it must not force whole months or districts of others into hiding. Suppression
//! starts from the cells below `k` and, for each hidden cell that fails, hides the cheapest
//! published cells that make a neighbouring atom a twin, until none fails.
//!
//! Moves are allowed only between atoms of the same *group*: a universe that shares its totals
//! with others (a breakdown with the national figures) moves records only where the others move
//! them too.

use std::collections::{BTreeMap, HashMap};

/// Atoms, cells and what is already decided about them.
#[derive(Debug, Clone, Default)]
pub struct Universe {
    /// Each atom's count.
    pub atom_values: Vec<i64>,
    /// Records move only between atoms of one group.
    pub atom_group: Vec<u32>,
    /// Each atom's place on the grid (category, month, column), to find neighbours.
    pub atom_coords: Vec<[u32; 3]>,
    /// The grid's size along each coordinate.
    pub shape: [u32; 3],
    /// The atoms of each cell.
    pub cells: Vec<Vec<u32>>,
    /// Cells that must be hidden whatever their count (a share of everyone in a small group, a
    /// count whose linked figure is hidden).
    pub forced: Vec<bool>,
    /// Cells whose status another universe decided: `Some(true)` hidden, `Some(false)` published.
    pub fixed: Vec<Option<bool>>,
    /// Hidden cells that need no protection of their own (with earlier releases, this release's
    /// figures, judged by what they gained since).
    pub exempt: Vec<bool>,
}

impl Universe {
    pub fn cell_value(&self, cell: usize) -> i64 {
        self.cells[cell].iter().map(|&a| self.atom_values[a as usize]).sum()
    }

    fn atom_at(&self, c: [u32; 3]) -> usize {
        ((c[0] * self.shape[1] + c[1]) * self.shape[2] + c[2]) as usize
    }
}

/// The twin classes of a universe under a hiding pattern.
pub struct Classes {
    /// Each atom's class.
    pub of: Vec<u32>,
    /// Each class's records (`None`: in no published cell, so unbounded) and size.
    pub mass: Vec<Option<i64>>,
    pub size: Vec<u32>,
}

/// Which cells hold each atom, in ascending order.
pub fn memberships(u: &Universe) -> Vec<Vec<u32>> {
    let mut of = vec![Vec::new(); u.atom_values.len()];
    for (c, atoms) in u.cells.iter().enumerate() {
        for &a in atoms {
            of[a as usize].push(c as u32);
        }
    }
    of
}

pub fn classes(u: &Universe, hidden: &[bool], member: &[Vec<u32>]) -> Classes {
    let mut ids: HashMap<(u32, Vec<u32>), u32> = HashMap::new();
    let mut of = Vec::with_capacity(u.atom_values.len());
    let mut mass: Vec<Option<i64>> = Vec::new();
    let mut size = Vec::new();
    for (a, cells) in member.iter().enumerate() {
        let signature: Vec<u32> = cells.iter().copied().filter(|&c| !hidden[c as usize]).collect();
        let bounded = !signature.is_empty();
        let next = ids.len() as u32;
        let id = *ids.entry((u.atom_group[a], signature)).or_insert(next);
        if id == next {
            mass.push(bounded.then_some(0));
            size.push(0);
        }
        if let Some(m) = mass[id as usize].as_mut() {
            *m += u.atom_values[a];
        }
        size[id as usize] += 1;
        of.push(id);
    }
    Classes { of, mass, size }
}

/// Why a hidden cell is not yet protected.
enum Gap {
    /// A class held whole, with records: the cell cannot be 0.
    Stuck(u32),
    /// The classes it touches hold fewer than `k` records: it cannot reach `k`.
    Short { atom: u32, missing: i64 },
}

/// `values`: each cell's count.
fn gap(u: &Universe, values: &[i64], cls: &Classes, cell: usize, k: i64) -> Option<Gap> {
    if u.exempt[cell] || values[cell] == 0 {
        // Counts no one: whatever its bounds, they tell nothing about a person.
        return None;
    }
    // In class order, not hash order: the same universe must always be protected the same way,
    // or two tables that protect it separately would publish different halves of it.
    let mut held: BTreeMap<u32, u32> = BTreeMap::new();
    for &a in &u.cells[cell] {
        *held.entry(cls.of[a as usize]).or_default() += 1;
    }
    let mut reach: i64 = 0;
    let mut unbounded = false;
    for (&c, &n) in &held {
        match cls.mass[c as usize] {
            // In no published cell: any number of records, none included.
            None => unbounded = true,
            Some(m) => {
                if n == cls.size[c as usize] && m > 0 {
                    let atom = u.cells[cell].iter().copied().find(|&a| cls.of[a as usize] == c).unwrap_or(0);
                    return Some(Gap::Stuck(atom));
                }
                reach += m;
            }
        }
    }
    if unbounded || reach >= k {
        return None;
    }
    let atom = *u.cells[cell].first()?;
    Some(Gap::Short { atom, missing: k - reach })
}

/// The published cells that hold exactly one of two atoms: hiding them makes the atoms twins.
/// (Each atom's cells are in ascending order, see [`memberships`]: one pass over both.)
fn difference(member: &[Vec<u32>], hidden: &[bool], a: usize, b: usize) -> Vec<u32> {
    let (x, y) = (&member[a], &member[b]);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < x.len() || j < y.len() {
        match (x.get(i), y.get(j)) {
            (Some(p), Some(q)) if p == q => (i, j) = (i + 1, j + 1),
            (Some(p), Some(q)) if p < q => {
                out.push(*p);
                i += 1;
            }
            (Some(p), None) => {
                out.push(*p);
                i += 1;
            }
            (_, Some(q)) => {
                out.push(*q);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out.retain(|&c| !hidden[c as usize]);
    out
}

/// The atoms one step from `atom` along any coordinate.
fn neighbours(u: &Universe, atom: usize) -> impl Iterator<Item = usize> + '_ {
    let at = u.atom_coords[atom];
    (0..3).flat_map(move |axis| {
        (0..u.shape[axis]).filter(move |&v| v != at[axis]).map(move |v| {
            let mut c = at;
            c[axis] = v;
            u.atom_at(c)
        })
    })
}

/// The outcome of protecting a universe.
#[derive(Debug, Clone)]
pub struct Protected {
    pub hidden: Vec<bool>,
    /// Cells hidden because they were below `k` or forced.
    pub primary: usize,
    /// Rounds of complementary suppression.
    pub rounds: usize,
    /// Everything not fixed had to be hidden.
    pub fell_back: bool,
}

/// Hides every cell below `k` or forced, then more until every hidden cell is protected.
pub fn protect(u: &Universe, k: i64) -> Protected {
    let member = memberships(u);
    let n = u.cells.len();
    // Summed once: the search below prices the same large cells (a year, a region) again and again.
    let values: Vec<i64> = (0..n).map(|c| u.cell_value(c)).collect();
    let mut hidden: Vec<bool> = (0..n)
        .map(|c| match u.fixed[c] {
            Some(h) => h,
            None => u.forced[c] || values[c] < k,
        })
        .collect();
    let primary = hidden.iter().filter(|h| **h).count();
    let cost = |c: u32, hidden: &[bool]| -> Option<i64> {
        match u.fixed[c as usize] {
            Some(false) => None,
            _ if hidden[c as usize] => Some(0),
            _ => Some(values[c as usize] + 1),
        }
    };
    let mut rounds = 0;
    loop {
        let cls = classes(u, &hidden, &member);
        let gaps: Vec<(usize, Gap)> =
            (0..n).filter(|&c| hidden[c]).filter_map(|c| gap(u, &values, &cls, c, k).map(|g| (c, g))).collect();
        if gaps.is_empty() {
            return Protected { hidden, primary, rounds, fell_back: false };
        }
        rounds += 1;
        let mut progressed = false;
        for (cell, g) in gaps {
            let (atom, want) = match g {
                Gap::Stuck(a) => (a as usize, None),
                Gap::Short { atom, missing } => (atom as usize, Some(missing)),
            };
            let own = cls.of[atom];
            let mut best: Option<(bool, i64, i64, Vec<u32>)> = None;
            for b in neighbours(u, atom) {
                if u.atom_group[b] != u.atom_group[atom] || cls.of[b] == own {
                    continue;
                }
                // A stuck class needs a twin outside the cell, so its records can leave it.
                if want.is_none() && u.cells[cell].contains(&(b as u32)) {
                    continue;
                }
                let delta = difference(&member, &hidden, atom, b);
                let Some(total) = delta.iter().map(|&c| cost(c, &hidden)).sum::<Option<i64>>() else { continue };
                let gain = cls.mass[cls.of[b] as usize].unwrap_or(i64::MAX);
                let enough = want.is_none_or(|m| gain >= m);
                // Enough records first, then the cheapest, then the most records.
                let better = match &best {
                    None => true,
                    Some((e, t, g, _)) => (enough, -total, gain) > (*e, -*t, *g),
                };
                if better {
                    best = Some((enough, total, gain, delta));
                }
            }
            if let Some((_, _, _, delta)) = best {
                for c in delta {
                    if !hidden[c as usize] {
                        hidden[c as usize] = true;
                        progressed = true;
                    }
                }
            }
        }
        if !progressed || rounds > 200 {
            for (c, h) in hidden.iter_mut().enumerate() {
                if u.fixed[c].is_none() {
                    *h = true;
                }
            }
            return Protected { hidden, primary, rounds, fell_back: true };
        }
    }
}
