//! Person codes by id, kept in memory for the worklists. Each worklist row shows its person's code,
//! and looking it up took two B-tree descents per row (the id's index, then the row) on pages
//! that every commit empties from SQLite's cache: most of what a worklist page read. A person's
//! code never changes once the person is stored, so a code read once is kept, the least recently
//! used going first when the cache is full; a cache can therefore never show a wrong code.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hashlink::LruCache;
use uuid::Uuid;

use crate::{Result, Store};

/// Codes kept: a national coordinator's lists reach a few thousand persons; each entry is about
/// 100 bytes.
const KEPT: usize = 100_000;

/// Codes looked up in one query: the ids are bound, one value each.
const CHUNK: usize = 500;

#[derive(Clone)]
pub(crate) struct PersonCodes(Arc<Mutex<LruCache<Uuid, String>>>);

impl Default for PersonCodes {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(LruCache::new(KEPT))))
    }
}

impl std::fmt::Debug for PersonCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonCodes")
    }
}

impl PersonCodes {
    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<Uuid, String>> {
        // A panic while holding the lock leaves the cache intact: entries are whole or absent.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store {
    /// The codes of stored persons: from memory where read before, the rest in one query per
    /// [`CHUNK`]. An id of no stored person has no entry.
    pub async fn person_codes(&self, ids: impl IntoIterator<Item = Uuid>) -> Result<HashMap<Uuid, String>> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        {
            let mut cache = self.codes.lock();
            for id in ids {
                match cache.get(&id) {
                    Some(code) => {
                        found.insert(id, code.clone());
                    }
                    None => missing.push(id),
                }
            }
        }
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(CHUNK) {
            let rows: Vec<(Uuid, String)> = with_pool!(self, pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT id, code FROM persons WHERE id IN (");
                crate::sql::push_ids(&mut q, chunk);
                q.build_query_as().fetch_all(pool).await?
            });
            let mut cache = self.codes.lock();
            for (id, code) in rows {
                cache.insert(id, code.clone());
                found.insert(id, code);
            }
        }
        Ok(found)
    }
}
