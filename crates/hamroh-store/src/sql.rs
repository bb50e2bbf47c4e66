//! The two macros that let one SQL text serve both pools. The body is compiled once per backend;
//! `$n` placeholders work on both drivers.

/// Runs `$body` with `$pool` bound to the backend's pool.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}

/// A worklist section: its rows from the SQL text `$rows` and its capped count from `$count`, both
/// with the values `$bind`. The count is not read when fewer rows than `$limit` came back, since
/// they are then the whole section (`Listing::of` counts them); it is 0 then.
macro_rules! section_rows {
    ($store:expr, $limit:expr, $rows:expr, $count:expr, $($bind:expr),+ $(,)?) => {{
        let rows: Vec<_> = with_pool!($store, pool => {
            let q = sqlx::query_as(sqlx::AssertSqlSafe($rows));
            $(let q = q.bind($bind);)+
            q.fetch_all(pool).await?
        });
        let count: i64 = if rows.len() < $limit {
            0
        } else {
            with_pool!($store, pool => {
                let q = sqlx::query_scalar(sqlx::AssertSqlSafe($count));
                $(let q = q.bind($bind);)+
                q.fetch_one(pool).await?
            })
        };
        (rows, count)
    }};
}

/// Records, inside the transaction `$tx`, that the keyed requests `$requests` (an iterator of
/// `&KeyedRequest`, each once) have written: their rows are inserted, or marked if their own
/// request inserted them before. Evaluates to a `Result`: a row held by another claim is a
/// conflict, which the caller's `?` turns into a rollback.
///
/// Only the transaction that makes a keyed request's own change calls this (an audited read does
/// not: a key marked by one would tell a retry that a write was carried out that never was).
macro_rules! mark_written {
    ($tx:ident, $requests:expr) => {{
        let requests: Vec<&$crate::idempotency::KeyedRequest> = $requests.into_iter().collect();
        let mut rest = &requests[..];
        let mut outcome: $crate::Result<()> = Ok(());
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at($crate::sql::chunk_len(rest.len(), 8));
            rest = after;
            let now = $crate::now_millis();
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO idempotency_keys (caller, key, method, path, body_hash, claim, created_at, written_at) ",
            );
            q.push_values(chunk, |mut row, r| {
                row.push_bind(r.caller.clone())
                    .push_bind(r.key.clone())
                    .push_bind(r.method.clone())
                    .push_bind(r.path.clone())
                    .push_bind(r.body_hash.clone())
                    .push_bind(r.claim.clone())
                    .push_bind(now)
                    .push_bind(now);
            });
            q.push(
                " ON CONFLICT (caller, key) DO UPDATE SET written_at = excluded.written_at \
                 WHERE idempotency_keys.claim = excluded.claim",
            );
            match q.build().execute(&mut *$tx).await {
                Ok(done) if done.rows_affected() == chunk.len() as u64 => {}
                Ok(_) => {
                    outcome = Err($crate::StoreError::Conflict(
                        "a request with this Idempotency-Key is being answered elsewhere".into(),
                    ));
                    break;
                }
                Err(e) => {
                    outcome = Err(e.into());
                    break;
                }
            }
        }
        outcome
    }};
}

/// Marks the keyed request the current task answers (if any) as written, inside `$tx`: the call
/// every state-changing transaction makes, next to the change it records.
macro_rules! mark_request_written {
    ($tx:ident) => {{
        let current = $crate::idempotency::current();
        mark_written!($tx, current.as_ref())
    }};
}

/// Runs `$body` inside a write transaction bound to `$tx` and commits it; an early return through
/// `?` drops the transaction, which rolls it back. SQLite transactions begin IMMEDIATE so that two
/// writers queue on the lock instead of failing on a read-to-write upgrade. A transaction that
/// makes a keyed request's change says so itself ([`mark_request_written`]).
macro_rules! write_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::Backend::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
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

/// Bind parameters one statement may carry: below SQLite's limit (32,766) and PostgreSQL's (65,535).
pub(crate) const MAX_PARAMS: usize = 32_000;

/// Inserts `$rows` (an iterator) inside the transaction `$tx` with a few statements instead of one
/// per row: every statement is a round trip to the database's connection, and on SQLite that hop
/// between threads costs more than the insert itself. `$head` is the statement up to `VALUES`,
/// `$columns` the values each row binds (which `|$b, $row| $bind` pushes), `$tail` what follows the
/// values (`ON CONFLICT …`). Rows go in chunks whose sizes are powers of two, so that each table
/// has only a few statement texts, each prepared once per connection and then kept.
macro_rules! insert_rows {
    ($tx:ident, $head:expr, $rows:expr, $columns:expr, |$b:ident, $row:ident| $bind:block $(, $tail:expr)?) => {{
        let rows: Vec<_> = $rows.into_iter().collect();
        let mut rest = &rows[..];
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at($crate::sql::chunk_len(rest.len(), $columns));
            rest = after;
            let mut q = sqlx::QueryBuilder::new($head);
            q.push_values(chunk, |mut $b, $row| {
                $bind;
            });
            $(q.push($tail);)?
            q.build().execute(&mut *$tx).await?;
        }
    }};
}

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
