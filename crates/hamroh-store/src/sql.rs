//! SQL shared by the store's modules: the dispatch macro of the reads not yet on the executor seam
//! ([`crate::exec`]), the referral status lists, and how multi-row statements are cut.

use crate::exec::{Row, Value, sql};
use crate::{Result, Store};

/// Runs `$body` with `$pool` bound to the backend's pool; the body is compiled once per backend.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}

/// Appends `id, id, ...)` to a query that ends in `IN (`.
pub(crate) fn push_ids<DB: sqlx::Database>(q: &mut sqlx::QueryBuilder<DB>, ids: &[uuid::Uuid])
where
    uuid::Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
}

/// The statuses that keep a referral open ([`hamroh_domain::access::referral_is_open`]), as an SQL
/// list; a macro so that it can stand in `concat!`.
macro_rules! open_referral_statuses {
    () => {
        "('sent', 'accepted', 'attended', 'no_show')"
    };
}

/// The statuses of a referral that waits on its receiver
/// ([`hamroh_domain::access::referral_awaits_receiver`]); the worklist's partial indexes
/// (migrations 0015 and 0016) are on the same list, so a query must name it as written here.
macro_rules! awaiting_referral_statuses {
    () => {
        "('sent', 'accepted')"
    };
}

/// The statuses that end a referral, the complement of [`open_referral_statuses`]. `status NOT IN`
/// this list keeps a planner without statistics (SQLite's) from walking an index on the status
/// when the query also names the persons.
macro_rules! ended_referral_statuses {
    () => {
        "('declined', 'redirected', 'cancelled', 'closed')"
    };
}

impl Store {
    /// A worklist section: its rows from the SQL text `rows` and its capped count from `count`,
    /// both with the values `args`. The count is not read when fewer rows than `limit` came back,
    /// since they are then the whole section (`Listing::of` counts them); it is 0 then.
    pub(crate) async fn section_rows<T: Row>(
        &self,
        limit: usize,
        rows: String,
        count: String,
        args: Vec<Value<'_>>,
    ) -> Result<(Vec<T>, i64)> {
        let found: Vec<T> = self.fetch_all(sql(sqlx::AssertSqlSafe(rows)).bind_all(args.clone())).await?;
        let n =
            if found.len() < limit { 0 } else { self.scalar(sql(sqlx::AssertSqlSafe(count)).bind_all(args)).await? };
        Ok((found, n))
    }
}

/// Bind parameters one statement may carry: below SQLite's limit (32,766) and PostgreSQL's (65,535).
pub(crate) const MAX_PARAMS: usize = 32_000;

/// Most rows one multi-row statement takes.
pub(crate) const MAX_ROWS: usize = 256;

/// How many of `remaining` rows of `columns` values the next statement takes: the largest power of
/// two that fits, within the parameter limit and [`MAX_ROWS`].
pub(crate) fn chunk_len(remaining: usize, columns: usize) -> usize {
    let cap = (MAX_PARAMS / columns.max(1)).clamp(1, MAX_ROWS);
    let n = remaining.min(cap);
    1 << n.ilog2()
}

#[cfg(test)]
mod tests {
    use super::chunk_len;
    use hamroh_domain::access::referral_is_open;
    use hamroh_domain::referral::ReferralStatus;

    #[test]
    fn the_sql_list_of_open_statuses_is_the_domain_rule() {
        let open: Vec<String> =
            ReferralStatus::ALL.iter().filter(|s| referral_is_open(**s)).map(|s| format!("'{s}'")).collect();
        assert_eq!(open_referral_statuses!(), format!("({})", open.join(", ")));
        let ended: Vec<String> =
            ReferralStatus::ALL.iter().filter(|s| !referral_is_open(**s)).map(|s| format!("'{s}'")).collect();
        assert_eq!(ended_referral_statuses!(), format!("({})", ended.join(", ")));
        let awaiting: Vec<String> = ReferralStatus::ALL
            .iter()
            .filter(|s| hamroh_domain::access::referral_awaits_receiver(**s))
            .map(|s| format!("'{s}'"))
            .collect();
        assert_eq!(awaiting_referral_statuses!(), format!("({})", awaiting.join(", ")));
    }

    #[test]
    fn the_partial_indexes_name_the_awaiting_statuses_as_the_queries_do() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for backend in ["sqlite", "postgres"] {
            for file in ["0015_worklist_indexes.sql", "0016_covering_indexes.sql"] {
                let text = std::fs::read_to_string(dir.join(backend).join(file)).unwrap();
                for line in text.lines().filter(|l| l.contains("WHERE status IN")) {
                    assert!(line.contains(awaiting_referral_statuses!()), "{backend}/{file}: {line}");
                }
            }
        }
    }

    #[test]
    fn chunks_are_powers_of_two_that_cover_every_row() {
        for columns in [1, 7, 20, 40_000] {
            for total in 1..1_200 {
                let (mut left, mut sizes) = (total, Vec::new());
                while left > 0 {
                    let n = chunk_len(left, columns);
                    assert!(n.is_power_of_two() && n <= left && n <= super::MAX_ROWS);
                    assert!(n == 1 || n * columns <= super::MAX_PARAMS);
                    sizes.push(n);
                    left -= n;
                }
                assert_eq!(sizes.iter().sum::<usize>(), total);
            }
        }
    }
}
