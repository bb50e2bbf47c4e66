//! The release log. Every publication of indicator figures (a dashboard page, an API answer, a
//! download, an export) is recorded: what was asked, when, by whom. Beside it, the values each
//! figure has been published with, kept per universe (one metric's figures for one year and one
//! breakdown dimension), so that the next release can be protected against the earlier ones.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use uuid::Uuid;

use crate::exec::{Tx, Value, sql};
use crate::{Result, Store, StoreError, now_millis};

/// The values each figure of one universe has been published with, by the figure's key.
pub type Published = BTreeMap<String, BTreeSet<i64>>;

/// A publication: what was published, to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct NewRelease {
    /// The user it was published to; `None` for the command line.
    pub user_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    /// Where it went: `dashboard`, `api`, `csv`, `xlsx`, `export csv`, `export dhis2`, …
    pub channel: String,
    /// What was asked: indicators, months, period and breakdown (never a person).
    pub request: String,
    /// The breakdown dimension (`none`, `district`, `sex`, …).
    pub breakdown: String,
    /// The last month with figures (`YYYYMM`).
    pub as_of: i64,
    pub k: i64,
    /// Figures published and figures withheld.
    pub figures: i64,
    pub withheld: i64,
}

/// A recorded publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ReleaseLine {
    pub id: Uuid,
    pub at: i64,
    /// The recipient's user name and organisation's name, while they exist.
    pub username: Option<String>,
    pub organisation: Option<String>,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub release: NewRelease,
}

/// How many release layers of a year are kept before its last one: a new release is protected
/// together with them and the last, so that any run of that many and two more releases read
/// together narrows nothing. Each costs its share of protecting a changed year (BENCHMARKS.md).
pub const EARLIER_LAYERS_KEPT: i64 = 4;

/// What earlier releases published, as one release read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// How many releases had been recorded when it was read: a release protected against this
    /// history is recorded only if none has been since (see [`Store::record_release`]).
    pub generation: i64,
    /// The values each figure was published with, by universe.
    pub published: BTreeMap<String, Published>,
    /// The last release layer of each year asked for, as kept (see `hamroh_analytics::layer`).
    pub layers: BTreeMap<i64, String>,
    /// When each of those layers was kept (milliseconds since the epoch).
    pub layer_times: BTreeMap<i64, i64>,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    universe: String,
    published: String,
}

fn parse(row: HistoryRow) -> Result<(String, Published)> {
    let published = serde_json::from_str(&row.published)
        .map_err(|e| StoreError::Corrupt(format!("release history of {}: {e}", row.universe)))?;
    Ok((row.universe, published))
}

async fn read_history(tx: &mut Tx, universes: &[&String]) -> Result<BTreeMap<String, Published>> {
    let mut out = BTreeMap::new();
    for chunk in universes.chunks(crate::sql::MAX_ROWS) {
        // No row locks: the release counter's row, updated first, makes releases take turns.
        let text = format!(
            "SELECT universe, published FROM release_history WHERE universe IN ({})",
            tx.placeholders(chunk.len())
        );
        let rows: Vec<HistoryRow> =
            tx.fetch_all(sql(sqlx::AssertSqlSafe(text)).bind_all(chunk.iter().map(|u| Value::from(*u))).once()).await?;
        for row in rows {
            let (u, p) = parse(row)?;
            out.insert(u, p);
        }
    }
    Ok(out)
}

impl Store {
    /// The values the figures of these universes have been published with, and the last release
    /// layer of each of `years`.
    pub async fn release_history(&self, universes: &[String], years: &[i64]) -> Result<History> {
        // The counter first: a release recorded while the rows are read makes it stale, never the
        // rows newer than it says.
        let generation: i64 = self.scalar(sql("SELECT generation FROM release_generation WHERE id = 1")).await?;
        let mut published = BTreeMap::new();
        for chunk in universes.chunks(crate::sql::MAX_ROWS) {
            let text = format!(
                "SELECT universe, published FROM release_history WHERE universe IN ({})",
                crate::exec::placeholder_list(matches!(self.backend, crate::Backend::Sqlite(_)), 0, chunk.len())
            );
            let rows: Vec<HistoryRow> =
                self.fetch_all(sql(sqlx::AssertSqlSafe(text)).bind_all(chunk.iter().map(Value::from)).once()).await?;
            for row in rows {
                let (u, p) = parse(row)?;
                published.insert(u, p);
            }
        }
        let (mut layers, mut layer_times) = (BTreeMap::new(), BTreeMap::new());
        for &year in years {
            let row: Option<(String, i64)> = self
                .fetch_optional(sql("SELECT body, updated_at FROM release_layers WHERE year = $1").bind(year))
                .await?;
            if let Some((body, at)) = row {
                layers.insert(year, body);
                layer_times.insert(year, at);
            }
        }
        Ok(History { generation, published, layers, layer_times })
    }

    /// The release layers of a year before its last one, oldest first (at most
    /// [`EARLIER_LAYERS_KEPT`]).
    pub async fn earlier_layers(&self, year: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = self
            .fetch_all(sql("SELECT body FROM release_layers_before WHERE year = $1 ORDER BY seq").bind(year))
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Records a publication and adds the values it published to each universe's history, in one
    /// transaction; returns the release's id. With `protected_against` (the generation of the
    /// [`History`] the release was protected against), records nothing and answers `None` if
    /// another release was recorded since, in this process or another: the caller protects the
    /// release again against the newer history. `layers`: each year's new release layer, by year.
    pub async fn record_release(
        &self,
        release: &NewRelease,
        published: &BTreeMap<String, Published>,
        protected_against: Option<i64>,
        layers: &[(i64, String)],
    ) -> Result<Option<Uuid>> {
        let id = Uuid::now_v7();
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        // Also the lock that makes releases take turns on PostgreSQL (SQLite has one writer).
        let counted = tx
            .execute(
                sql("UPDATE release_generation SET generation = generation + 1 \
                     WHERE id = 1 AND ($1 IS NULL OR generation = $1)")
                .bind(protected_against),
            )
            .await?;
        if counted == 0 {
            return Ok(None); // the transaction rolls back as it is dropped
        }
        let universes: Vec<&String> = published.keys().collect();
        let mut history = read_history(&mut tx, &universes).await?;
        for (universe, figures) in published {
            let had = history.remove(universe);
            let existed = had.is_some();
            let mut merged = had.unwrap_or_default();
            let before: usize = merged.values().map(BTreeSet::len).sum();
            for (key, values) in figures {
                merged.entry(key.clone()).or_default().extend(values);
            }
            if existed && merged.values().map(BTreeSet::len).sum::<usize>() == before {
                continue;
            }
            let text = serde_json::to_string(&merged).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let statement = if existed {
                "UPDATE release_history SET published = $2, updated_at = $3 WHERE universe = $1"
            } else {
                "INSERT INTO release_history (universe, published, updated_at) VALUES ($1, $2, $3)"
            };
            tx.execute(sql(statement).bind(universe).bind(text).bind(now)).await?;
        }
        for (year, body) in layers {
            // The layer this one follows joins those before it; the oldest beyond what is kept go.
            let seq: i64 = tx
                .scalar(sql("SELECT COALESCE(MAX(seq), 0) + 1 FROM release_layers_before WHERE year = $1").bind(*year))
                .await?;
            let moved = tx
                .execute(
                    sql("INSERT INTO release_layers_before (year, seq, body, updated_at) \
                         SELECT year, $2, body, updated_at FROM release_layers WHERE year = $1")
                    .bind(*year)
                    .bind(seq),
                )
                .await?;
            if moved > 0 {
                tx.execute(
                    sql("DELETE FROM release_layers_before WHERE year = $1 AND seq <= $2")
                        .bind(*year)
                        .bind(seq - EARLIER_LAYERS_KEPT),
                )
                .await?;
            }
            tx.execute(
                sql("INSERT INTO release_layers (year, body, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (year) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at")
                .bind(*year)
                .bind(body)
                .bind(now),
            )
            .await?;
        }
        tx.execute(
            sql("INSERT INTO releases (id, at, user_id, organisation_id, channel, request, breakdown, as_of, k, \
                 figures, withheld) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(id)
            .bind(now)
            .bind(release.user_id)
            .bind(release.organisation_id)
            .bind(&release.channel)
            .bind(&release.request)
            .bind(&release.breakdown)
            .bind(release.as_of)
            .bind(release.k)
            .bind(release.figures)
            .bind(release.withheld),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// The latest publications, newest first.
    pub async fn releases(&self, limit: i64) -> Result<Vec<ReleaseLine>> {
        self.fetch_all(
            sql("SELECT r.id, r.at, u.username, o.name AS organisation, r.user_id, r.organisation_id, r.channel, \
                 r.request, r.breakdown, r.as_of, r.k, r.figures, r.withheld FROM releases r \
                 LEFT JOIN users u ON u.id = r.user_id LEFT JOIN organisations o ON o.id = r.organisation_id \
                 ORDER BY r.at DESC, r.id DESC LIMIT $1")
            .bind(limit),
        )
        .await
    }
}
