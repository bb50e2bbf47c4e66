//! Lost to follow-up: persons with a positive or flagged screening that no attended referral and
//! no done follow-up answered since. A screening is answered by an attendance or follow-up at or
//! after its time, so what is unanswered is every such screening after the person's last answer;
//! the first of them is kept in `unanswered`, one row per person, by every transaction that can
//! change it ([`refresh_unanswered`]). The person is lost once that screening is older than the
//! cut-off, which depends on the time of asking. Reading this from the records meant looking for
//! an answer after every positive screening in the country: 42 s at two million people.

use serde::Serialize;
use uuid::Uuid;

use crate::exec::{Tx, Value, sql};
use crate::referrals::Listing;
use crate::{Result, Store};

/// The condition on a positive or flagged screening `s` that nothing answered it since: no
/// referral of the person attended and no follow-up done after it. The referral's own few events
/// are read by its id: `|| ''` keeps SQLite's planner, which has no statistics, from the
/// (status, time) index, where it walked every attendance since the screening for each screening.
/// Migration 0017 fills `unanswered` with the same condition.
pub(crate) const UNANSWERED: &str = "NOT EXISTS (SELECT 1 FROM referrals r JOIN referral_events e ON e.referral_id = r.id \
     WHERE r.person_id = s.person_id AND e.to_status || '' = 'attended' AND e.at >= s.encounter_at) \
     AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.person_id = s.person_id AND f.status = 'done' \
     AND f.done_at >= s.encounter_at)";

/// Makes concurrent transactions that refresh any of `persons` (sorted ids) take turns until
/// `tx` ends. The row lock does not conflict with the key-share locks that inserting a person's
/// records takes. A refresh made after the lock sees every record of the person committed before
/// it, so whichever transaction refreshes last leaves the right row. Take it before the cube's
/// rows, as every writer does, so that no two writers wait on each other. SQLite has one writer
/// at a time and needs no lock.
pub(crate) async fn lock_persons(tx: &mut Tx, persons: &[Uuid]) -> Result<()> {
    if tx.concurrent() && !persons.is_empty() {
        let text = format!(
            "SELECT id FROM persons WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
            tx.placeholders(persons.len())
        );
        tx.execute(sql(sqlx::AssertSqlSafe(text)).bind_all(persons.iter().map(Value::from))).await?;
    }
    Ok(())
}

/// Recomputes, inside the open transaction `tx`, the first unanswered positive or flagged
/// screening of each person in `persons` (person ids, repeats allowed): run it after writing a
/// person's screenings, attendances or done follow-ups, and before counting them in the cube.
pub(crate) async fn refresh_unanswered(tx: &mut Tx, persons: &[Uuid]) -> Result<()> {
    let mut persons: Vec<Uuid> = persons.to_vec();
    persons.sort_unstable();
    persons.dedup();
    for chunk in persons.chunks(crate::sql::MAX_ROWS) {
        lock_persons(tx, chunk).await?;
        let list = tx.placeholders(chunk.len());
        let ids = || chunk.iter().map(Value::from);
        let text = format!("DELETE FROM unanswered WHERE person_id IN ({list})");
        tx.execute(sql(sqlx::AssertSqlSafe(text)).bind_all(ids())).await?;
        let text = format!(
            "INSERT INTO unanswered (person_id, organisation_id, since) \
             SELECT s.person_id, p.organisation_id, MIN(s.encounter_at) FROM screenings s \
             JOIN persons p ON p.id = s.person_id WHERE s.person_id IN ({list}) \
             AND (s.positive = TRUE OR s.flags <> '') AND {UNANSWERED} GROUP BY s.person_id, p.organisation_id"
        );
        tx.execute(sql(sqlx::AssertSqlSafe(text)).bind_all(ids())).await?;
    }
    Ok(())
}

/// A person with a positive screen or a red flag, and no attended referral or completed follow-up
/// since, for longer than the allowed days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LostCase {
    pub person_id: Uuid,
    pub person_code: String,
    pub organisation_id: Uuid,
    pub organisation: String,
    pub since: i64,
}

/// How many persons registered by one organisation are lost to follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LostCount {
    pub organisation_id: Uuid,
    pub organisation: String,
    pub count: i64,
}

impl Store {
    /// Persons lost to follow-up (unanswered since before `cutoff`), of one registering
    /// organisation or of all (`None`): the `limit` lost longest first, and how many there are,
    /// counted up to [`crate::WORKLIST_ROWS`].
    pub async fn lost_to_follow_up(
        &self,
        organisation_id: Option<Uuid>,
        cutoff: i64,
        limit: usize,
    ) -> Result<Listing<LostCase>> {
        type Row = (Uuid, Uuid, String, i64);
        // One text per case: "$2 IS NULL OR column = $2" would keep the planner from the index.
        let from = format!(
            "FROM unanswered u WHERE u.since < $1 AND {}",
            if organisation_id.is_some() { "u.organisation_id = $2" } else { "$2 IS NULL" }
        );
        let sql = format!(
            "SELECT u.person_id, u.organisation_id, o.name, u.since {} ORDER BY u.since, u.person_id LIMIT {limit}",
            from.replacen("FROM unanswered u", "FROM unanswered u JOIN organisations o ON o.id = u.organisation_id", 1)
        );
        let count = crate::referrals::capped_count(&from);
        let (rows, count): (Vec<Row>, i64) =
            self.section_rows(limit, sql, count, values![cutoff, organisation_id]).await?;
        let codes = self.person_codes(rows.iter().map(|r| r.0)).await?;
        let rows = rows
            .into_iter()
            .map(|(person_id, organisation_id, organisation, since)| LostCase {
                person_id,
                person_code: codes.get(&person_id).cloned().unwrap_or_default(),
                organisation_id,
                organisation,
                since,
            })
            .collect();
        Ok(Listing::of(rows, count))
    }

    /// How many persons each registering organisation has lost to follow-up (unanswered since
    /// before `cutoff`), most first; organisations with none are left out.
    pub async fn lost_by_organisation(&self, cutoff: i64) -> Result<Vec<LostCount>> {
        type Row = (Uuid, String, i64);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT o.id, o.name, c.n FROM (SELECT organisation_id, COUNT(*) AS n FROM unanswered \
                 WHERE since < $1 GROUP BY organisation_id) c JOIN organisations o ON o.id = c.organisation_id \
                 ORDER BY c.n DESC, o.name",
            )
            .bind(cutoff)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(organisation_id, organisation, count)| LostCount { organisation_id, organisation, count })
            .collect())
    }
}
