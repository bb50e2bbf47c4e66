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

use std::collections::HashMap;

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
    // A cell names each of its atoms once: the classes and differences below count on it.
    debug_assert!(of.iter().all(|cells| cells.windows(2).all(|w| w[0] < w[1])));
    of
}

/// Atoms are twins when they share a group and every published cell holds both or neither: the
/// classes are found by splitting each group along every published cell in turn (partition
/// refinement, one pass over the memberships), then numbered in the order of their first atom, so
/// that the same universe is always numbered, and protected, the same way.
pub fn classes(u: &Universe, hidden: &[bool], member: &[Vec<u32>]) -> Classes {
    let atoms = u.atom_values.len();
    // Start: one part per group.
    let mut group_part: HashMap<u32, u32> = HashMap::new();
    let mut part: Vec<u32> = Vec::with_capacity(atoms);
    let mut size: Vec<u32> = Vec::new();
    for &g in &u.atom_group {
        let next = group_part.len() as u32;
        let p = *group_part.entry(g).or_insert(next);
        if p == next {
            size.push(0);
        }
        size[p as usize] += 1;
        part.push(p);
    }
    // Split every part a published cell holds only some of.
    const NONE: u32 = u32::MAX;
    let mut hit: Vec<u32> = vec![0; size.len()];
    let mut split_to: Vec<u32> = vec![NONE; size.len()];
    let mut touched: Vec<u32> = Vec::new();
    for (c, cell) in u.cells.iter().enumerate() {
        if hidden[c] {
            continue;
        }
        for &a in cell {
            let p = part[a as usize] as usize;
            if hit[p] == 0 {
                touched.push(p as u32);
            }
            hit[p] += 1;
        }
        for &p in &touched {
            let p = p as usize;
            if hit[p] < size[p] {
                split_to[p] = size.len() as u32;
                size.push(0);
                hit.push(0);
                split_to.push(NONE);
            }
        }
        for &a in cell {
            let old = part[a as usize] as usize;
            let new = split_to[old];
            if new != NONE {
                size[old] -= 1;
                size[new as usize] += 1;
                part[a as usize] = new;
            }
        }
        for &p in &touched {
            hit[p as usize] = 0;
            split_to[p as usize] = NONE;
        }
        touched.clear();
    }
    // Number the classes by their first atom.
    let mut number: Vec<u32> = vec![NONE; size.len()];
    let mut of = Vec::with_capacity(atoms);
    let mut mass: Vec<Option<i64>> = Vec::new();
    let mut class_size = Vec::new();
    for (a, cells) in member.iter().enumerate() {
        let p = part[a] as usize;
        if number[p] == NONE {
            number[p] = mass.len() as u32;
            // Twins share their published cells: in none, the class is unbounded.
            let bounded = cells.iter().any(|&c| !hidden[c as usize]);
            mass.push(bounded.then_some(0));
            class_size.push(0);
        }
        let id = number[p];
        if let Some(m) = mass[id as usize].as_mut() {
            *m += u.atom_values[a];
        }
        class_size[id as usize] += 1;
        of.push(id);
    }
    Classes { of, mass, size: class_size }
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
    let mut held: Vec<u32> = u.cells[cell].iter().map(|&a| cls.of[a as usize]).collect();
    held.sort_unstable();
    let mut reach: i64 = 0;
    let mut unbounded = false;
    for run in held.chunk_by(|a, b| a == b) {
        let (c, n) = (run[0], run.len() as u32);
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

/// The cells that hold exactly one of two atoms, in ascending order (each atom's cells are in
/// ascending order, see [`memberships`]: one pass over both, nothing allocated).
fn symmetric_difference<'a>(x: &'a [u32], y: &'a [u32]) -> impl Iterator<Item = u32> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        loop {
            match (x.get(i), y.get(j)) {
                (Some(p), Some(q)) if p == q => (i, j) = (i + 1, j + 1),
                (Some(p), Some(q)) if p < q => {
                    i += 1;
                    return Some(*p);
                }
                (Some(p), None) => {
                    i += 1;
                    return Some(*p);
                }
                (_, Some(q)) => {
                    j += 1;
                    return Some(*q);
                }
                (None, None) => return None,
            }
        }
    })
}

/// The published cells that hold exactly one of two atoms: hiding them makes the atoms twins.
fn difference(member: &[Vec<u32>], hidden: &[bool], a: usize, b: usize) -> Vec<u32> {
    symmetric_difference(&member[a], &member[b]).filter(|&c| !hidden[c as usize]).collect()
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
    // Hiding more cells only joins classes, and a joined class holds at least the records of its
    // parts: a hidden cell once protected stays protected. So each round looks again only at the
    // cells that failed the last one and those hidden since.
    let mut pending: Vec<usize> = (0..n).filter(|&c| hidden[c]).collect();
    loop {
        let cls = classes(u, &hidden, &member);
        let gaps: Vec<(usize, Gap)> =
            pending.iter().filter_map(|&c| gap(u, &values, &cls, c, k).map(|g| (c, g))).collect();
        if gaps.is_empty() {
            return Protected { hidden, primary, rounds, fell_back: false };
        }
        pending = gaps.iter().map(|g| g.0).collect();
        rounds += 1;
        let mut progressed = false;
        for (cell, g) in gaps {
            let (atom, want) = match g {
                Gap::Stuck(a) => (a as usize, None),
                Gap::Short { atom, missing } => (atom as usize, Some(missing)),
            };
            let own = cls.of[atom];
            let mut best: Option<(bool, i64, i64, usize)> = None;
            for b in neighbours(u, atom) {
                if u.atom_group[b] != u.atom_group[atom] || cls.of[b] == own {
                    continue;
                }
                // A stuck class needs a twin outside the cell, so its records can leave it.
                if want.is_none() && u.cells[cell].contains(&(b as u32)) {
                    continue;
                }
                // Priced without collecting: most candidates are not the best.
                let Some(total) =
                    symmetric_difference(&member[atom], &member[b]).map(|c| cost(c, &hidden)).sum::<Option<i64>>()
                else {
                    continue;
                };
                let gain = cls.mass[cls.of[b] as usize].unwrap_or(i64::MAX);
                let enough = want.is_none_or(|m| gain >= m);
                // Enough records first, then the cheapest, then the most records.
                let better = match &best {
                    None => true,
                    Some((e, t, g, _)) => (enough, -total, gain) > (*e, -*t, *g),
                };
                if better {
                    best = Some((enough, total, gain, b));
                }
            }
            if let Some((_, _, _, b)) = best {
                for c in difference(&member, &hidden, atom, b) {
                    if !hidden[c as usize] {
                        hidden[c as usize] = true;
                        pending.push(c as usize);
                        progressed = true;
                    }
                }
            }
        }
        // In cell order, as the first round: the order decides which cells the search hides.
        pending.sort_unstable();
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Twins by their definition: the same group and the same published cells.
    fn twins_by_definition(u: &Universe, hidden: &[bool]) -> Vec<u32> {
        let member = memberships(u);
        let mut ids: HashMap<(u32, Vec<u32>), u32> = HashMap::new();
        member
            .iter()
            .enumerate()
            .map(|(a, cells)| {
                let published: Vec<u32> = cells.iter().copied().filter(|&c| !hidden[c as usize]).collect();
                let next = ids.len() as u32;
                *ids.entry((u.atom_group[a], published)).or_insert(next)
            })
            .collect()
    }

    proptest! {
        #[test]
        fn classes_are_the_twins_numbered_by_their_first_atom(
            values in proptest::collection::vec(0i64..5, 1..40),
            groups in proptest::collection::vec(0u32..3, 40),
            cells in proptest::collection::vec(proptest::collection::btree_set(0usize..40, 1..10), 0..15),
            hidden in proptest::collection::vec(any::<bool>(), 15),
        ) {
            let n = values.len();
            let cells: Vec<Vec<u32>> =
                cells.iter().map(|c| c.iter().filter(|&&a| a < n).map(|&a| a as u32).collect()).collect();
            let u = Universe {
                atom_group: groups[..n].to_vec(),
                atom_values: values,
                cells,
                ..Universe::default()
            };
            let hidden = &hidden[..u.cells.len()];
            let member = memberships(&u);
            let cls = classes(&u, hidden, &member);
            prop_assert_eq!(&cls.of, &twins_by_definition(&u, hidden));
            for (c, &size) in cls.size.iter().enumerate() {
                let atoms: Vec<usize> = (0..n).filter(|&a| cls.of[a] as usize == c).collect();
                prop_assert_eq!(size as usize, atoms.len());
                let bounded = member[atoms[0]].iter().any(|&cell| !hidden[cell as usize]);
                let records: i64 = atoms.iter().map(|&a| u.atom_values[a]).sum();
                prop_assert_eq!(cls.mass[c], bounded.then_some(records));
            }
        }
    }
}
