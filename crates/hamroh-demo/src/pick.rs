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

/// A short code from an unambiguous alphabet (Crockford base 32: no I, L, O, U).
pub fn code(rng: &mut Rng, prefix: &str, groups: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut out = String::from(prefix);
    for _ in 0..groups {
        out.push('-');
        for _ in 0..4 {
            out.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
        }
    }
    out
}
