//! Bulk loads: many persons with all their records at once (the demo data set, a national
//! fixture). Inserting each record into every index of its table, and recomputing the derived
//! tables (open red flags, first unanswered screenings, the indicator cube) commit by commit, is
//! most of the cost of a large load: each insert lands on a random page of each index, because a
//! record's id and dates are spread across years. A bulk load sets the record tables' secondary
//! indexes aside, stores the rows and their audit events, then builds each index once from its
//! table and the derived tables once from the records.
//!
//! What is set aside is written down in `bulk_load_steps` in the same transaction that sets it
//! aside, so a load that is interrupted (a crash, Ctrl-C) is finished the next time the store
//! opens: no database is left without its indexes or with stale derived tables.
//!
//! While a load runs, reads that would use the set-aside indexes scan their tables instead: run
//! no server on a database being bulk-loaded.

use hamroh_domain::model::Batch;

use crate::audit::Actor;
use crate::cube::Increments;
use crate::exec::{Tx, sql};
use crate::records::{Derived, Part};
use crate::{Backend, Result, Store};

/// The tables a bulk load fills. Their unique indexes stay (they are the checks that keep a load
/// from storing a record twice); the others are set aside.
const RECORD_TABLES: [&str; 10] = [
    "persons",
    "migration_episodes",
    "consents",
    "screenings",
    "decisions",
    "safety_assessments",
    "referrals",
    "referral_events",
    "follow_ups",
    "audit_events",
];

/// Indexes that the load itself reads through, which stay: the trigger that keeps a person's care
/// consent on its row looks up the person's latest consent at every insert.
const READ_WHILE_LOADING: [&str; 1] = ["consents_person"];

/// The step in `bulk_load_steps` that stands for the derived tables, done after every index.
const DERIVED: &str = "derived tables";

/// A bulk load under way: batches go in through [`BulkLoad::insert`], and [`BulkLoad::finish`]
/// builds the indexes and derived tables. Clones share the load.
#[derive(Clone)]
pub struct BulkLoad {
    writer: Store,
}

impl Store {
    /// Starts a bulk load: sets the record tables' secondary indexes aside (see the module
    /// documentation). Each batch given to the load must hold every record of its persons.
    pub async fn begin_bulk_load(&self) -> Result<BulkLoad> {
        let writer = self.bulk_writer();
        let mut tx = writer.begin_write().await?;
        for (name, definition) in secondary_indexes(&mut tx).await? {
            tx.execute(
                sql("INSERT INTO bulk_load_steps (name, index_definition) VALUES ($1, $2)")
                    .bind(name.as_str())
                    .bind(definition),
            )
            .await?;
            tx.execute(sql(sqlx::AssertSqlSafe(format!("DROP INDEX {}", quoted(&name)))).once()).await?;
        }
        tx.execute(
            sql("INSERT INTO bulk_load_steps (name, index_definition) VALUES ($1, NULL) ON CONFLICT (name) DO NOTHING")
                .bind(DERIVED),
        )
        .await?;
        tx.commit().await?;
        Ok(BulkLoad { writer })
    }

    /// Finishes a bulk load that an earlier process began and did not finish, if any.
    pub(crate) async fn finish_interrupted_bulk_load(&self) -> Result<()> {
        let pending: i64 = self.scalar(sql("SELECT COUNT(*) FROM bulk_load_steps")).await?;
        if pending == 0 {
            return Ok(());
        }
        tracing::warn!(steps = pending, "finishing an interrupted bulk load: building its indexes and derived tables");
        finish(self).await
    }
}

impl BulkLoad {
    /// Stores `batch` (every record of its persons), one audit event per record and the records'
    /// counts in the cube, in one transaction. Red flags that the batch's safety assessments answer stay open, and the
    /// first unanswered screenings are not computed, until [`BulkLoad::finish`].
    pub async fn insert(&self, actor: &Actor, batch: &Batch) -> Result<()> {
        let parts = [Part { actor, batch, messages: &[], events: &[] }];
        let mut inc = Increments::default();
        let mut tx = self.writer.begin_write().await?;
        crate::records::write_in_tx(&mut tx, &parts, None, &mut inc, Derived::AfterLoad).await?;
        crate::cube::flush(&mut tx, &inc).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Builds the indexes set aside, each from its whole table, and the derived tables from the
    /// records.
    pub async fn finish(self) -> Result<()> {
        finish(&self.writer).await
    }
}

/// Builds every index still set aside, one transaction each, then the derived tables in one more,
/// each step removed from `bulk_load_steps` in the transaction that does it.
async fn finish(store: &Store) -> Result<()> {
    let steps: Vec<(String, Option<String>)> =
        store.fetch_all(sql("SELECT name, index_definition FROM bulk_load_steps ORDER BY name")).await?;
    for (name, definition) in &steps {
        let Some(definition) = definition else { continue };
        let mut tx = store.begin_write().await?;
        tx.execute(sql(sqlx::AssertSqlSafe(definition.clone())).once()).await?;
        tx.execute(sql("DELETE FROM bulk_load_steps WHERE name = $1").bind(name.as_str())).await?;
        tx.commit().await?;
    }
    if steps.iter().any(|(_, definition)| definition.is_none()) {
        let mut tx = store.begin_write().await?;
        derive_from_records(&mut tx).await?;
        tx.execute(sql("DELETE FROM bulk_load_steps WHERE name = $1").bind(DERIVED)).await?;
        tx.commit().await?;
    }
    if let Backend::Postgres(pool) = &store.backend {
        // The derived tables lost most of the rows the load wrote (answered red flags: 526,000 of
        // 532,000 at two million persons); their pages stay, and the worklist read all of them
        // (7,845 pages against 205 rewritten). Rewritten compact; nothing else uses them yet.
        for table in ["open_red_flags", "unanswered"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM (FULL) {table}"))).execute(pool).await?;
        }
        // Statistics for the planner now, not when autovacuum comes round to the loaded tables:
        // without them it misjudges how many persons a name or a birth year matches.
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    if let Backend::Sqlite(pool) = &store.backend {
        // The writer syncs only at checkpoints (see `Store::bulk_writer`): one now, so that the
        // load is on disk when it is reported done.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    }
    Ok(())
}

/// The tables that the write path keeps up to date record by record, computed for the whole
/// database at once, with the same rules (see `records::answer_red_flags_and_refresh`).
async fn derive_from_records(tx: &mut Tx) -> Result<()> {
    // A safety assessment answers its person's red flags of its kind raised up to its encounter.
    tx.execute(sql("DELETE FROM open_red_flags WHERE screening_id IN (SELECT o.screening_id FROM open_red_flags o \
         JOIN safety_assessments a ON a.person_id = o.person_id \
         WHERE (',' || o.flags || ',') LIKE '%,' || a.flag || ',%' \
         AND o.encounter_at <= (SELECT MAX(e.encounter_at) FROM screenings e WHERE e.encounter_id = a.encounter_id))"))
        .await?;
    tx.execute(sql("DELETE FROM unanswered")).await?;
    tx.execute(sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO unanswered (person_id, organisation_id, since) \
         SELECT s.person_id, p.organisation_id, MIN(s.encounter_at) FROM screenings s \
         JOIN persons p ON p.id = s.person_id WHERE (s.positive = TRUE OR s.flags <> '') \
         AND {} GROUP BY s.person_id, p.organisation_id",
        crate::lost::UNANSWERED
    ))))
    .await?;
    Ok(())
}

/// The record tables' indexes that no constraint needs: name and the statement that makes it.
async fn secondary_indexes(tx: &mut Tx) -> Result<Vec<(String, String)>> {
    let list = |names: &[&str]| names.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let (tables, kept) = (list(&RECORD_TABLES), list(&READ_WHILE_LOADING));
    let text = if tx.concurrent() {
        format!(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename IN ({tables}) AND indexdef NOT LIKE 'CREATE UNIQUE %' \
             AND indexname NOT IN (SELECT conname FROM pg_constraint) AND indexname NOT IN ({kept}) ORDER BY indexname"
        )
    } else {
        format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({tables}) \
             AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE %' AND name NOT IN ({kept}) ORDER BY name"
        )
    };
    tx.fetch_all(sql(sqlx::AssertSqlSafe(text)).once()).await
}

/// An identifier quoted for a statement (index names come from the catalogue, never from input).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
