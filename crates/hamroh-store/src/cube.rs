//! The indicator cube: counts per measure, category, month and value, for each breakdown
//! separately (its one-dimensional margins), kept in the same transaction as the records they count
//! so that an indicator reflects a record the moment it is stored. The live queries of `facts.rs`
//! define what is counted; [`Store::rebuild_cube`] fills the cube from them, and a test checks that
//! the incremental cube equals the rebuilt one.

use std::collections::{BTreeMap, HashMap};

use hamroh_domain::model::{Batch, ReferralEvent, period_month};
use hamroh_domain::referral::ReferralStatus;
use uuid::Uuid;

use crate::exec::{Tx, Value, sql};
use crate::facts::{Fact, Measure};
use crate::{Result, Store, now_millis};

/// The breakdowns the cube keeps; `none` holds the totals.
pub const DIMS: [&str; 7] = ["none", "region", "district", "sex", "age_band", "destination", "work_sector"];

/// Age bands for reporting (age in the year of the month counted).
pub const AGE_BANDS: [&str; 6] = ["under_18", "18_29", "30_39", "40_49", "50_59", "60_plus"];

pub fn age_band(age: i64) -> &'static str {
    match age {
        ..18 => AGE_BANDS[0],
        18..30 => AGE_BANDS[1],
        30..40 => AGE_BANDS[2],
        40..50 => AGE_BANDS[3],
        50..60 => AGE_BANDS[4],
        _ => AGE_BANDS[5],
    }
}

/// What a record is broken down by.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Dims {
    pub district: String,
    pub sex: String,
    pub birth_year: i64,
    pub destination: Option<String>,
    pub work_sector: Option<String>,
}

fn dim_value(dim: &str, d: &Dims, month: i64) -> String {
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
    match dim {
        "region" => d.district.split('.').next().unwrap_or_default().to_owned(),
        "district" => d.district.clone(),
        "sex" => d.sex.clone(),
        "age_band" => age_band(month / 100 - d.birth_year).to_owned(),
        "destination" => or_unknown(&d.destination),
        "work_sector" => or_unknown(&d.work_sector),
        _ => String::new(),
    }
}

type Key = (Measure, String, i64, &'static str, String, i64);

/// Counts to add to the cube.
#[derive(Debug, Default)]
pub struct Increments(pub(crate) BTreeMap<Key, i64>);

impl Increments {
    pub fn add(&mut self, measure: Measure, category: &str, month: i64, dims: &Dims, value: Option<i64>, n: i64) {
        for dim in DIMS {
            let key = (measure, category.to_owned(), month, dim, dim_value(dim, dims, month), value.unwrap_or(-1));
            *self.0.entry(key).or_default() += n;
        }
    }

    pub fn add_fact(&mut self, f: &Fact) {
        let dims = Dims {
            district: f.district.clone(),
            sex: f.sex.clone(),
            birth_year: f.birth_year,
            destination: f.destination.clone(),
            work_sector: f.work_sector.clone(),
        };
        self.add(f.measure, f.category.as_deref().unwrap_or(""), f.month, &dims, f.value, f.n);
    }
}

/// Adds increments to the cube inside the transaction `tx`.
// Rows are written in key order, so that concurrent transactions take the cube's row locks in
// the same order and cannot deadlock (PostgreSQL).
pub(crate) async fn flush(tx: &mut Tx, increments: &Increments) -> Result<()> {
    let rows = increments.0.iter().map(|((measure, category, month, dim, dim_value, value), n)| {
        values![measure.as_str(), category, *month, *dim, dim_value, *value, *n]
    });
    tx.insert_rows(
        "INSERT INTO indicator_cube (measure, category, month, dim, dim_value, value, n) ",
        rows,
        " ON CONFLICT (dim, measure, category, month, dim_value, value) \
         DO UPDATE SET n = indicator_cube.n + excluded.n",
    )
    .await?;
    Ok(())
}

/// Adds increments that may take counts away (a person's breakdown values changed), and removes
/// the rows they empty, so that the cube holds only what a rebuild from the records would.
pub(crate) async fn flush_moves(tx: &mut Tx, mut increments: Increments) -> Result<()> {
    increments.0.retain(|_, n| *n != 0);
    flush(tx, &increments).await?;
    for ((measure, category, month, dim, dim_value, value), n) in &increments.0 {
        if *n < 0 {
            tx.execute(
                sql("DELETE FROM indicator_cube WHERE dim = $1 AND measure = $2 AND category = $3 AND month = $4 \
                     AND dim_value = $5 AND value = $6 AND n = 0")
                .bind_all(values![*dim, measure.as_str(), category, *month, dim_value, *value]),
            )
            .await?;
        }
    }
    Ok(())
}

const DIM_COLUMNS: &str = "district, sex, birth_year, destination, work_sector";

/// A person's breakdown values, with the person's id.
#[derive(sqlx::FromRow)]
struct PersonDims {
    id: Uuid,
    #[sqlx(flatten)]
    dims: Dims,
}

/// A person's breakdown values, read inside the transaction `tx`.
async fn person_dims(tx: &mut Tx, person: Uuid) -> Result<Option<Dims>> {
    let text = format!("SELECT {DIM_COLUMNS} FROM persons WHERE id = $1");
    tx.fetch_optional(sql(sqlx::AssertSqlSafe(text)).bind(person)).await
}

/// A row of the cube.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CubeRow {
    pub measure: Measure,
    pub category: String,
    pub month: i64,
    pub dim_value: String,
    pub value: Option<i64>,
    pub n: i64,
}

/// Records held, as counted by the cube.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub persons: i64,
    pub screenings: i64,
    pub referrals: i64,
}

impl Store {
    /// The cube's rows for one breakdown (see [`DIMS`]) and the months `from..=to`, for the
    /// measures asked, each limited to one category or (with `None`) all of them; every measure
    /// when `wanted` is empty.
    pub async fn cube(
        &self,
        dim: &str,
        from: i64,
        to: i64,
        wanted: &[(Measure, Option<&str>)],
    ) -> Result<Vec<CubeRow>> {
        let all: Vec<(Measure, Option<&str>)> = Measure::ALL.iter().map(|m| (*m, None)).collect();
        let wanted = if wanted.is_empty() { &all[..] } else { wanted };
        let mut rows: Vec<(String, String, i64, String, i64, i64)> = Vec::new();
        // Each is one range of the primary key (dim, measure, category, month).
        for (measure, category) in wanted {
            // Two texts rather than `$3 IS NULL OR ...`, so that both use the key's range.
            let sql = match category {
                Some(_) => {
                    "SELECT measure, category, month, dim_value, value, n FROM indicator_cube \
                     WHERE dim = $1 AND measure = $2 AND category = $3 AND month BETWEEN $4 AND $5"
                }
                None => {
                    "SELECT measure, category, month, dim_value, value, n FROM indicator_cube \
                     WHERE dim = $1 AND measure = $2 AND $3 = '' AND month BETWEEN $4 AND $5"
                }
            };
            let part: Vec<(String, String, i64, String, i64, i64)> = with_pool!(self, pool => {
                sqlx::query_as(sql)
                    .bind(dim)
                    .bind(measure.as_str())
                    .bind(category.unwrap_or(""))
                    .bind(from)
                    .bind(to)
                    .fetch_all(pool)
                    .await?
            });
            rows.extend(part);
        }
        rows.into_iter()
            .map(|(measure, category, month, dim_value, value, n)| {
                Ok(CubeRow {
                    measure: Measure::parse(&measure)
                        .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown measure {measure}")))?,
                    category,
                    month,
                    dim_value,
                    value: (value >= 0).then_some(value),
                    n,
                })
            })
            .collect()
    }

    /// How many persons, screenings and referrals the database holds, from the cube's totals: a
    /// few hundred rows, where counting the tables reads millions (the home page shows these).
    pub async fn totals(&self) -> Result<Totals> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT measure, CAST(SUM(n) AS BIGINT) FROM indicator_cube WHERE dim = 'none' AND measure IN ($1, $2, $3) \
                 GROUP BY measure",
            )
            .bind(Measure::Registered.as_str())
            .bind(Measure::Screened.as_str())
            .bind(Measure::ReferralSent.as_str())
            .fetch_all(pool)
            .await?
        });
        let of = |m: Measure| rows.iter().find(|(code, _)| code == m.as_str()).map_or(0, |(_, n)| *n);
        Ok(Totals {
            persons: of(Measure::Registered),
            screenings: of(Measure::Screened),
            referrals: of(Measure::ReferralSent),
        })
    }

    /// Empties the cube and fills it again from the records. Returns the number of cube rows.
    pub async fn rebuild_cube(&self) -> Result<u64> {
        let (from, to): (Option<i64>, Option<i64>) = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT MIN(m), MAX(m) FROM (SELECT MIN(period_month) AS m FROM persons \
                 UNION ALL SELECT MIN(period_month) FROM screenings UNION ALL SELECT MAX(period_month) FROM screenings \
                 UNION ALL SELECT MAX(period_month) FROM persons) months",
            )
            .fetch_one(pool)
            .await?
        });
        let mut increments = Increments::default();
        if let (Some(from), Some(to)) = (from, to) {
            // Referral events can come after the last screening: count up to now.
            let to = to.max(period_month(now_millis()));
            for fact in self.facts(from, to, i64::MIN).await? {
                increments.add_fact(&fact);
            }
        }
        let rows = increments.0.len() as u64;
        let mut tx = self.begin_write().await?;
        tx.execute(sql("DELETE FROM indicator_cube")).await?;
        flush(&mut tx, &increments).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Fills the cube if it is empty while records exist (a database from before the cube).
    pub(crate) async fn fill_cube_if_empty(&self) -> Result<()> {
        let (cube, persons): (i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM indicator_cube LIMIT 1) c), \
                 (SELECT COUNT(*) FROM (SELECT 1 FROM persons LIMIT 1) p)",
            )
            .fetch_one(pool)
            .await?
        });
        if cube == 0 && persons > 0 {
            let rows = self.rebuild_cube().await?;
            tracing::info!(rows, "indicator cube filled from existing records");
        }
        Ok(())
    }
}

/// The breakdown values of a person being registered.
pub(crate) fn dims_of(rec: &hamroh_domain::model::PersonRecord) -> Dims {
    let p = &rec.person;
    let last = rec.episodes.iter().max_by_key(|e| e.year_from);
    Dims {
        district: p.district.as_str().to_owned(),
        sex: p.sex.as_str().to_owned(),
        birth_year: i64::from(p.birth_year.get()),
        destination: last.map(|e| e.destination_country.clone()),
        work_sector: last.map(|e| e.work_sector.as_str().to_owned()),
    }
}

/// Counts a batch's records into `inc`, inside the transaction `tx` that stores them; the
/// counting rules are those of `Store::facts`.
pub(crate) async fn count_batch(tx: &mut Tx, batches: &[&Batch], inc: &mut Increments) -> Result<()> {
    let persons = || batches.iter().flat_map(|b| &b.persons);
    let screenings = || batches.iter().flat_map(|b| &b.screenings);
    let referrals = || batches.iter().flat_map(|b| &b.referrals);
    let mut dims: HashMap<Uuid, Dims> = persons().map(|r| (r.person.id, dims_of(r))).collect();
    for rec in persons() {
        let d = dims_of(rec);
        let month = period_month(rec.person.created_at);
        inc.add(Measure::Registered, "", month, &d, None, 1);
        for e in &rec.episodes {
            if let Some(injury) = &e.injury {
                let at = Dims {
                    destination: Some(e.destination_country.clone()),
                    work_sector: Some(e.work_sector.as_str().to_owned()),
                    ..d.clone()
                };
                inc.add(Measure::Injury, injury.cause.as_str(), month, &at, None, 1);
            }
        }
    }
    let mut need: Vec<Uuid> = screenings().map(|s| s.person_id).collect();
    need.extend(referrals().map(|r| r.person_id));
    need.retain(|id| !dims.contains_key(id));
    need.sort_unstable();
    need.dedup();
    for chunk in need.chunks(1_000) {
        let text = format!("SELECT id, {DIM_COLUMNS} FROM persons WHERE id IN ({})", tx.placeholders(chunk.len()));
        let rows: Vec<PersonDims> =
            tx.fetch_all(sql(sqlx::AssertSqlSafe(text)).bind_all(chunk.iter().map(Value::from)).once()).await?;
        dims.extend(rows.into_iter().map(|r| (r.id, r.dims)));
    }
    for s in screenings() {
        let Some(d) = dims.get(&s.person_id) else { continue };
        let month = period_month(s.encounter_at);
        inc.add(Measure::Screened, &s.instrument, month, d, None, 1);
        if s.outcome.positive == Some(true) {
            inc.add(Measure::Positive, &s.instrument, month, d, None, 1);
        }
        if s.outcome.flags.iter().any(|f| f.contains("self_harm")) {
            inc.add(Measure::SelfHarm, &s.instrument, month, d, None, 1);
        }
        if s.instrument == "wgss" {
            inc.add(Measure::WgssAnswers, &crate::records::answers_text(&s.answers), month, d, None, 1);
        }
    }
    let mut sectors: HashMap<Uuid, String> = HashMap::new();
    for r in referrals() {
        let Some(d) = dims.get(&r.person_id) else { continue };
        if let std::collections::hash_map::Entry::Vacant(e) = sectors.entry(r.service_id) {
            e.insert(tx.scalar(sql("SELECT sector FROM services WHERE id = $1").bind(r.service_id)).await?);
        }
        let sector = &sectors[&r.service_id];
        let month = period_month(r.created_at);
        inc.add(Measure::ReferralSent, sector, month, d, None, 1);
        let first = |status: ReferralStatus| r.events.iter().find(|e| e.to_status == status);
        if first(ReferralStatus::Accepted).is_some() {
            inc.add(Measure::ReferralAccepted, sector, month, d, None, 1);
        }
        if let Some(e) = first(ReferralStatus::Attended) {
            let days = (e.at - r.created_at).max(0) / 86_400_000;
            inc.add(Measure::ReferralAttended, sector, month, d, Some(days), 1);
        }
        for e in &r.events {
            if let Some(b) = e.barrier {
                inc.add(Measure::Barrier, b.as_str(), period_month(e.at), d, None, 1);
            }
        }
    }
    Ok(())
}

/// Counts one referral step into `inc`, inside the transaction `tx` that records it, before the
/// step's event is inserted (so that "first time accepted or attended" can be asked). The caller
/// writes the counts after the audit events, as every writer does: writers that lock the cube's
/// rows and the audit chain's head in different orders can wait on each other forever.
pub(crate) async fn count_step(
    tx: &mut Tx,
    referral: &crate::referrals::ReferralDetail,
    event: &ReferralEvent,
    inc: &mut Increments,
) -> Result<()> {
    let earlier: i64 = tx
        .scalar(
            sql("SELECT COUNT(*) FROM referral_events WHERE referral_id = $1 AND to_status = $2")
                .bind(referral.id)
                .bind(event.to_status.as_str()),
        )
        .await?;
    let first = earlier == 0;
    let Some(d) = person_dims(tx, referral.person_id).await? else { return Ok(()) };
    let sector: String = tx.scalar(sql("SELECT sector FROM services WHERE id = $1").bind(referral.service_id)).await?;
    let month = period_month(referral.created_at);
    match event.to_status {
        ReferralStatus::Accepted if first => inc.add(Measure::ReferralAccepted, &sector, month, &d, None, 1),
        ReferralStatus::Attended if first => {
            let days = (event.at - referral.created_at).max(0) / 86_400_000;
            inc.add(Measure::ReferralAttended, &sector, month, &d, Some(days), 1)
        }
        _ => {}
    }
    if let Some(b) = event.barrier {
        inc.add(Measure::Barrier, b.as_str(), period_month(event.at), &d, None, 1);
    }
    Ok(())
}
