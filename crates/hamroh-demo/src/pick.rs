//! Small helpers for drawing from weighted lists with a seeded generator.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

pub type Rng = ChaCha8Rng;

/// Draws one item; weights need not sum to anything in particular.
pub fn weighted<'a, T>(rng: &mut Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

pub fn one<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A UUID v7 whose time is `at_ms` and whose random part comes from the seeded generator.
pub fn uuid_at(rng: &mut Rng, at_ms: i64) -> Uuid {
    let bytes: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(at_ms.max(0) as u64, &bytes).into_uuid()
}

/// Ids in the order records are made, as an import mints them: the time of each id is the
/// data set's load time (one millisecond per person from `base_ms`), and its first twelve random
/// bits count the person's records. Ids drawn at each record's own date would land all over every
/// table's id index at each commit of a large load (a chunk's encounters span three years), so
/// each commit would rewrite a page of the index per record; in load order a commit appends.
#[derive(Debug, Clone)]
pub struct Mint {
    base_ms: i64,
    person: u64,
    records: u16,
}

impl Mint {
    pub fn new(base_ms: i64) -> Self {
        Self { base_ms, person: 0, records: 0 }
    }

    /// The records that follow belong to the `n`th person.
    pub fn person(&mut self, n: u64) {
        self.person = n;
        self.records = 0;
    }

    /// The next id; the rest of its random part from the seeded generator.
    pub fn next(&mut self, rng: &mut Rng) -> Uuid {
        let mut bytes: [u8; 10] = rng.random();
        // Twelve bits follow the version: at most 4,096 records a person (a demo person has tens).
        let n = self.records.min(0x0fff);
        bytes[0] = (n >> 8) as u8;
        bytes[1] = (n & 0xff) as u8;
        self.records = self.records.saturating_add(1);
        uuid::Builder::from_unix_timestamp_millis((self.base_ms.max(0) as u64) + self.person, &bytes).into_uuid()
    }
}

/// The `n`th of a shuffled sequence of 40-bit numbers, without repeats: a four-round Feistel
/// network on two 20-bit halves, which is one-to-one whatever its round function, so distinct `n`
/// below 2^40 give distinct codes however many are drawn (random draws repeat among a million or
/// so). The key enters every round, so that two keys give unrelated sequences.
pub fn spread(n: u64, key: u64) -> u64 {
    const HALF: u64 = (1 << 20) - 1;
    // SplitMix64's finaliser: a strong mix of all 64 bits.
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let (mut left, mut right) = ((n >> 20) & HALF, n & HALF);
    for round in 0..4_u64 {
        let f = mix(right ^ key.rotate_left(20) ^ (round << 60)) & HALF;
        (left, right) = (right, left ^ f);
    }
    (left << 20) | right
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_never_repeats() {
        let mut seen = std::collections::HashSet::new();
        for n in (0..200_000).chain((1 << 40) - 1000..(1 << 40)) {
            let x = spread(n, 7);
            assert!(x < 1 << 40);
            assert!(seen.insert(x), "{n} repeats");
        }
        // Another key is another sequence, not the same one shifted.
        let other: std::collections::HashSet<u64> = (0..1_000).map(|n| spread(n, 8)).collect();
        assert!((0..1_000).all(|n| !other.contains(&spread(n, 7))));
    }
}
