//! Disclosure control: which cells of a table of counts may be published.
//!
//! Primary suppression hides every count below `k` (zero included). Complementary suppression then
//! hides further cells until no hidden cell can be worked out exactly from the published ones and
//! the table's additive structure (rows add up to a total column, columns to a total row).
//!
//! The test for "worked out exactly" is exact, not a rule of thumb: think of every line of the
//! table (a row or a column) as a vertex and every hidden cell as an edge between its row and its
//! column. A line whose total is published gives one equation over its hidden cells; a line without
//! a total gives none, and all such lines act as one unconstrained vertex. A hidden cell's value is
//! determined by the equations exactly when its edge is a bridge of that graph (it lies on no
//! cycle): a cycle lets values shift by +d, -d around it without changing any published figure.
//! So suppression continues until the graph has no bridge.

/// A table's layout: interior cells, and whether the last column holds row totals and the last row
/// holds column totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub rows: usize,
    pub cols: usize,
    /// The last column holds the sum of each row.
    pub row_totals: bool,
    /// The last row holds the sum of each column.
    pub col_totals: bool,
}

impl Layout {
    /// Rows and columns including the total row and column.
    pub fn full(&self) -> (usize, usize) {
        (self.rows + usize::from(self.col_totals), self.cols + usize::from(self.row_totals))
    }

    fn is_total(&self, r: usize, c: usize) -> bool {
        (self.col_totals && r == self.rows) || (self.row_totals && c == self.cols)
    }
}

/// Which cells of `values` (laid out as `layout.full()`, totals included) to hide.
pub fn suppress(values: &[Vec<i64>], layout: &Layout, k: i64) -> Vec<Vec<bool>> {
    suppress_with(values, layout, k, |_, _| false)
}

/// [`suppress`], hiding also the cells `also` names (a count that would tell a small group's
/// share as 100 %), and protecting them like the counts below `k`.
pub fn suppress_with(
    values: &[Vec<i64>],
    layout: &Layout,
    k: i64,
    also: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<bool>> {
    let (rows, cols) = layout.full();
    assert!(values.len() == rows && values.iter().all(|r| r.len() == cols), "table shape does not match its layout");
    let mut hidden: Vec<Vec<bool>> = values
        .iter()
        .enumerate()
        .map(|(r, row)| row.iter().enumerate().map(|(c, v)| *v < k || also(r, c)).collect())
        .collect();
    while let Some((r, c)) = determined_cell(&hidden, layout) {
        // The cost of hiding a cell: its value, and totals only as a last resort.
        let cost = |rr: usize, cc: usize| -> i64 {
            if hidden[rr][cc] {
                0
            } else if layout.is_total(rr, cc) {
                1 << 40
            } else {
                values[rr][cc].max(0) + 1
            }
        };
        let mut hide: Vec<(usize, usize)> = Vec::new();
        if layout.row_totals && layout.col_totals {
            // Complete the cheapest rectangle (r, c), (r, c2), (r2, c), (r2, c2): a cycle.
            let best = (0..rows)
                .filter(|&r2| r2 != r)
                .flat_map(|r2| (0..cols).filter(move |&c2| c2 != c).map(move |c2| (r2, c2)))
                .min_by_key(|&(r2, c2)| (cost(r, c2) + cost(r2, c) + cost(r2, c2), r2, c2));
            if let Some((r2, c2)) = best {
                hide.extend([(r, c2), (r2, c), (r2, c2)]);
            }
        } else {
            // One equation through the cell: a second hidden cell on that line is a cycle.
            let line: Vec<(usize, usize)> = if layout.row_totals {
                (0..cols).map(|cc| (r, cc)).collect()
            } else {
                (0..rows).map(|rr| (rr, c)).collect()
            };
            hide.extend(
                line.into_iter().filter(|&(rr, cc)| !hidden[rr][cc]).min_by_key(|&(rr, cc)| (cost(rr, cc), rr, cc)),
            );
        }
        let before = hidden.iter().flatten().filter(|h| **h).count();
        for (rr, cc) in hide {
            hidden[rr][cc] = true;
        }
        if hidden.iter().flatten().filter(|h| **h).count() == before {
            // Nothing left to hide on its lines (not possible for a consistent table), so hide
            // everything rather than publish a recoverable cell.
            return vec![vec![true; cols]; rows];
        }
    }
    hidden
}

/// A hidden cell whose value the published cells determine, if there is one.
pub fn determined_cell(hidden: &[Vec<bool>], layout: &Layout) -> Option<(usize, usize)> {
    let (rows, cols) = layout.full();
    // Vertices: rows 0..rows, columns rows..rows+cols, and one vertex for all lines without an
    // equation (rows have one when the table has row totals, columns when it has column totals).
    let free = rows + cols;
    let row_vertex = |r: usize| if layout.row_totals { r } else { free };
    let col_vertex = |c: usize| if layout.col_totals { rows + c } else { free };
    let mut edges: Vec<(usize, usize, (usize, usize))> = Vec::new();
    for (r, line) in hidden.iter().enumerate() {
        for (c, h) in line.iter().enumerate() {
            if *h {
                edges.push((row_vertex(r), col_vertex(c), (r, c)));
            }
        }
    }
    let bridges = bridges(free + 1, &edges.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>());
    bridges.first().map(|&i| edges[i].2)
}

/// Indices of the edges that are bridges of an undirected multigraph (self-loops are never bridges).
fn bridges(vertices: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut adjacency: Vec<Vec<(usize, usize)>> = vec![Vec::new(); vertices];
    for (i, &(a, b)) in edges.iter().enumerate() {
        if a != b {
            adjacency[a].push((b, i));
            adjacency[b].push((a, i));
        }
    }
    let mut order = vec![usize::MAX; vertices];
    let mut low = vec![0; vertices];
    let mut found = Vec::new();
    let mut counter = 0;
    for start in 0..vertices {
        if order[start] != usize::MAX {
            continue;
        }
        // Iterative depth-first search: (vertex, edge it was reached by, next neighbour index).
        let mut stack: Vec<(usize, usize, usize)> = vec![(start, usize::MAX, 0)];
        order[start] = counter;
        low[start] = counter;
        counter += 1;
        while let Some(&mut (v, via, ref mut next)) = stack.last_mut() {
            if let Some(&(w, edge)) = adjacency[v].get(*next) {
                *next += 1;
                if edge == via {
                    continue;
                }
                if order[w] == usize::MAX {
                    order[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push((w, edge, 0));
                } else {
                    low[v] = low[v].min(order[w]);
                }
            } else {
                stack.pop();
                if let Some(&(parent, _, _)) = stack.last() {
                    low[parent] = low[parent].min(low[v]);
                    if low[v] > order[parent] {
                        found.push(via);
                    }
                }
            }
        }
    }
    found.sort_unstable();
    found
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Builds a full table (interior plus totals) from interior counts.
    fn with_totals(interior: &[Vec<i64>], row_totals: bool, col_totals: bool) -> (Vec<Vec<i64>>, Layout) {
        let rows = interior.len();
        let cols = interior.first().map_or(0, Vec::len);
        let mut full: Vec<Vec<i64>> = interior
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if row_totals {
                    r.push(r.iter().sum());
                }
                r
            })
            .collect();
        if col_totals {
            let width = full.first().map_or(0, Vec::len);
            full.push((0..width).map(|c| full.iter().map(|r| r[c]).sum()).collect());
        }
        (full, Layout { rows, cols, row_totals, col_totals })
    }

    /// Independent check by linear algebra: a hidden cell is determined when its unit vector lies
    /// in the row space of the equations restricted to the hidden cells.
    fn recoverable(values: &[Vec<i64>], hidden: &[Vec<bool>], layout: &Layout) -> Vec<(usize, usize)> {
        let (rows, cols) = layout.full();
        let unknowns: Vec<(usize, usize)> =
            (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c))).filter(|&(r, c)| hidden[r][c]).collect();
        let index = |cell: (usize, usize)| unknowns.iter().position(|u| *u == cell);
        let mut equations: Vec<Vec<f64>> = Vec::new();
        let mut add = |cells: Vec<(usize, usize)>, total: (usize, usize)| {
            let mut eq = vec![0.0; unknowns.len()];
            for cell in cells {
                if let Some(i) = index(cell) {
                    eq[i] += 1.0;
                }
            }
            if let Some(i) = index(total) {
                eq[i] -= 1.0;
            }
            equations.push(eq);
        };
        if layout.row_totals {
            for r in 0..rows {
                add((0..layout.cols).map(|c| (r, c)).collect(), (r, layout.cols));
            }
        }
        if layout.col_totals {
            for c in 0..cols {
                add((0..layout.rows).map(|r| (r, c)).collect(), (layout.rows, c));
            }
        }
        let _ = values;
        let rank = |m: &[Vec<f64>]| rank(m.to_vec());
        let base = rank(&equations);
        unknowns
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let mut with = equations.clone();
                let mut unit = vec![0.0; unknowns.len()];
                unit[*i] = 1.0;
                with.push(unit);
                rank(&with) == base
            })
            .map(|(_, u)| *u)
            .collect()
    }

    fn rank(mut m: Vec<Vec<f64>>) -> usize {
        let cols = m.first().map_or(0, Vec::len);
        let mut rank = 0;
        for c in 0..cols {
            let Some(p) = (rank..m.len()).find(|&r| m[r][c].abs() > 1e-9) else { continue };
            m.swap(rank, p);
            let pivot = m[rank].clone();
            for (r, row) in m.iter_mut().enumerate() {
                if r != rank && row[c].abs() > 1e-9 {
                    let f = row[c] / pivot[c];
                    for (x, y) in row.iter_mut().zip(&pivot) {
                        *x -= f * y;
                    }
                }
            }
            rank += 1;
        }
        rank
    }

    #[test]
    fn a_single_small_cell_takes_a_partner_in_its_row_and_column() {
        let (full, layout) = with_totals(&[vec![2, 40, 50], vec![30, 60, 70], vec![35, 45, 55]], true, true);
        let hidden = suppress(&full, &layout, 5);
        assert!(hidden[0][0]);
        assert!(recoverable(&full, &hidden, &layout).is_empty());
        assert!(hidden.iter().flatten().filter(|h| **h).count() >= 4);
        assert!(!hidden[3][3], "the grand total stays published");
    }

    #[test]
    fn a_column_with_one_small_cell_hides_a_second_one() {
        let (full, layout) = with_totals(&[vec![12], vec![3], vec![20]], false, true);
        let hidden = suppress(&full, &layout, 5);
        assert_eq!(hidden, vec![vec![true], vec![true], vec![false], vec![false]]);
    }

    #[test]
    fn two_cycles_joined_by_one_cell_are_not_enough() {
        // Degree two everywhere is not the test: a bridge between two cycles is still determined.
        let layout = Layout { rows: 4, cols: 4, row_totals: true, col_totals: true };
        let mut hidden = vec![vec![false; 5]; 5];
        for (r, c) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)] {
            hidden[r][c] = true;
        }
        let values = vec![vec![10; 5]; 5];
        assert_eq!(determined_cell(&hidden, &layout), Some((1, 2)));
        assert_eq!(recoverable(&values, &hidden, &layout), vec![(1, 2)]);
    }

    proptest! {
        #[test]
        fn nothing_published_is_below_k_and_nothing_hidden_is_recoverable(
            rows in 1usize..6,
            cols in 1usize..6,
            seed in prop::collection::vec(0i64..30, 36),
            row_totals in any::<bool>(),
            k in 1i64..8,
        ) {
            let interior: Vec<Vec<i64>> = (0..rows).map(|r| (0..cols).map(|c| seed[r * 6 + c]).collect()).collect();
            let (full, layout) = with_totals(&interior, row_totals && cols > 1, true);
            let hidden = suppress(&full, &layout, k);
            for (r, line) in full.iter().enumerate() {
                for (c, v) in line.iter().enumerate() {
                    prop_assert!(hidden[r][c] || *v >= k, "published {v} < {k} at ({r},{c})");
                }
            }
            prop_assert_eq!(recoverable(&full, &hidden, &layout), vec![]);
        }
    }
}
