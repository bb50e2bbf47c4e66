//! The executor seam: a statement is one SQL text (`$n` placeholders work on both drivers) with
//! backend-neutral values, run on whichever database the store holds. The store's logic is written
//! once, as ordinary functions over [`Tx`] (a write transaction) or the store's pool; only this
//! module looks at the backend.

use std::borrow::Cow;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, SqlSafeStr, SqlStr, Sqlite, Transaction};
use uuid::Uuid;

use crate::{Backend, Result, Store};

/// One bound value. Nulls keep their type: PostgreSQL refuses an untyped null for a typed column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Uuid(Option<Uuid>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Real(Option<f64>),
    Text(Option<Cow<'a, str>>),
    Bytes(Option<Cow<'a, [u8]>>),
}

macro_rules! value_from {
    ($variant:ident: $($t:ty => $f:expr),+ $(,)?) => {$(
        impl<'a> From<$t> for Value<'a> {
            fn from(v: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Value::$variant(($f)(v))
            }
        }
    )+};
}

value_from!(Uuid: Uuid => Some, Option<Uuid> => |v| v, &Uuid => |v: &Uuid| Some(*v), &Option<Uuid> => |v: &Option<Uuid>| *v);
value_from!(Int: i64 => Some, Option<i64> => |v| v, &i64 => |v: &i64| Some(*v), &Option<i64> => |v: &Option<i64>| *v);
value_from!(Bool: bool => Some, Option<bool> => |v| v, &bool => |v: &bool| Some(*v));
value_from!(Real: f64 => Some, Option<f64> => |v| v);
value_from!(Text:
    &'a str => |v| Some(Cow::Borrowed(v)),
    &'a String => |v: &'a String| Some(Cow::Borrowed(v.as_str())),
    String => |v| Some(Cow::Owned(v)),
    Option<&'a str> => |v: Option<&'a str>| v.map(Cow::Borrowed),
    Option<&'a String> => |v: Option<&'a String>| v.map(|v| Cow::Borrowed(v.as_str())),
    Option<String> => |v: Option<String>| v.map(Cow::Owned),
    &'a Option<String> => |v: &'a Option<String>| v.as_deref().map(Cow::Borrowed),
);
value_from!(Bytes:
    &'a [u8] => |v| Some(Cow::Borrowed(v)),
    &'a Vec<u8> => |v: &'a Vec<u8>| Some(Cow::Borrowed(v.as_slice())),
    Option<Vec<u8>> => |v: Option<Vec<u8>>| v.map(Cow::Owned),
    &'a Option<Vec<u8>> => |v: &'a Option<Vec<u8>>| v.as_deref().map(Cow::Borrowed),
);

/// A row's values, in its columns' order: `values![a, b, c]`.
macro_rules! values {
    ($($v:expr),* $(,)?) => {
        vec![$($crate::exec::Value::from($v)),*]
    };
}

/// A statement: its text and the values it binds, in order.
#[derive(Debug, Clone)]
pub(crate) struct Sql<'a> {
    text: SqlStr,
    args: Vec<Value<'a>>,
    /// Whether the driver keeps the statement prepared (not for texts that vary with the data).
    persistent: bool,
}

/// A statement with the text `text`, to which [`Sql::bind`] adds values.
pub(crate) fn sql<'a>(text: impl SqlSafeStr) -> Sql<'a> {
    Sql { text: text.into_sql_str(), args: Vec::new(), persistent: true }
}

impl<'a> Sql<'a> {
    pub fn bind(mut self, value: impl Into<Value<'a>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Binds each value of `values`, in order.
    pub fn bind_all(mut self, values: impl IntoIterator<Item = Value<'a>>) -> Self {
        self.args.extend(values);
        self
    }

    /// Not kept prepared: the text is one of many (an `IN` list of any length).
    pub fn once(mut self) -> Self {
        self.persistent = false;
        self
    }
}

/// Binds the values on either driver; the one place that names their types per backend.
fn query<'q, DB>(s: Sql<'_>) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    Option<Uuid>: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    Option<i64>: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    Option<bool>: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    Option<f64>: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<&'e str>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'e> Option<&'e [u8]>: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
{
    let mut q = sqlx::query_with(s.text, <DB as sqlx::Database>::Arguments::default()).persistent(s.persistent);
    for v in &s.args {
        q = match v {
            Value::Uuid(v) => q.bind(*v),
            Value::Int(v) => q.bind(*v),
            Value::Bool(v) => q.bind(*v),
            Value::Real(v) => q.bind(*v),
            Value::Text(v) => q.bind(v.as_deref()),
            Value::Bytes(v) => q.bind(v.as_deref()),
        };
    }
    q
}

/// A row type both drivers can decode.
pub(crate) trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin> Row for T {}

/// An open write transaction on either backend. Dropping it without [`Tx::commit`] rolls it back,
/// so an early return through `?` leaves nothing behind.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// `n` placeholders for a statement whose only parameters they are: `$1, $2, …` on PostgreSQL,
    /// `?, ?, …` on SQLite, where a numbered parameter costs a search of the statement's parameter
    /// names at every bind, quadratic in their number (a 256-row insert spent most of its time so).
    pub fn placeholders(&self, n: usize) -> String {
        placeholder_list(matches!(self, Tx::Sqlite(_)), 0, n)
    }

    /// Whether another transaction may write at the same time (PostgreSQL), so that two
    /// transactions touching one person's derived rows must take turns; SQLite has one writer.
    pub fn concurrent(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }

    /// Runs a statement; the rows it changed.
    pub async fn execute(&mut self, s: Sql<'_>) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(t) => query::<Sqlite>(s).execute(&mut **t).await?.rows_affected(),
            Tx::Postgres(t) => query::<Postgres>(s).execute(&mut **t).await?.rows_affected(),
        })
    }

    pub async fn fetch_all<T: Row>(&mut self, s: Sql<'_>) -> Result<Vec<T>> {
        Ok(match self {
            Tx::Sqlite(t) => query::<Sqlite>(s).try_map(|r| T::from_row(&r)).fetch_all(&mut **t).await?,
            Tx::Postgres(t) => query::<Postgres>(s).try_map(|r| T::from_row(&r)).fetch_all(&mut **t).await?,
        })
    }

    pub async fn fetch_optional<T: Row>(&mut self, s: Sql<'_>) -> Result<Option<T>> {
        Ok(match self {
            Tx::Sqlite(t) => query::<Sqlite>(s).try_map(|r| T::from_row(&r)).fetch_optional(&mut **t).await?,
            Tx::Postgres(t) => query::<Postgres>(s).try_map(|r| T::from_row(&r)).fetch_optional(&mut **t).await?,
        })
    }

    pub async fn fetch_one<T: Row>(&mut self, s: Sql<'_>) -> Result<T> {
        Ok(match self {
            Tx::Sqlite(t) => query::<Sqlite>(s).try_map(|r| T::from_row(&r)).fetch_one(&mut **t).await?,
            Tx::Postgres(t) => query::<Postgres>(s).try_map(|r| T::from_row(&r)).fetch_one(&mut **t).await?,
        })
    }

    /// The first column of the one row a statement returns.
    pub async fn scalar<T>(&mut self, s: Sql<'_>) -> Result<T>
    where
        (T,): Row,
    {
        Ok(self.fetch_one::<(T,)>(s).await?.0)
    }

    /// Inserts `rows` (each a row's values, as [`values!`] makes them) with a few statements
    /// instead of one per row: every statement is a round trip to the database's connection, and
    /// on SQLite that hop between threads costs more than the insert itself. `head` is the
    /// statement up to `VALUES`, `tail` what follows the values (`ON CONFLICT …`). The column
    /// count is the rows' own. Rows go in chunks whose sizes are powers of two, so that each table
    /// has only a few statement texts, each prepared once per connection and then kept. Returns
    /// the rows changed.
    pub async fn insert_rows<'a>(
        &mut self,
        head: &str,
        rows: impl IntoIterator<Item = Vec<Value<'a>>>,
        tail: &str,
    ) -> Result<u64> {
        let rows: Vec<Vec<Value<'a>>> = rows.into_iter().collect();
        let Some(columns) = rows.first().map(Vec::len) else { return Ok(0) };
        assert!(rows.iter().all(|r| r.len() == columns), "every row of `{head}` binds {columns} values");
        let (mut rest, mut changed) = (rows, 0);
        while !rest.is_empty() {
            let n = crate::sql::chunk_len(rest.len(), columns);
            let after = rest.split_off(n);
            let text = values_statement(head, (n, columns), tail, matches!(self, Tx::Sqlite(_)));
            changed += self.execute(sql(sqlx::AssertSqlSafe(text)).bind_all(rest.into_iter().flatten())).await?;
            rest = after;
        }
        Ok(changed)
    }
}

/// `n` placeholders after the first `before` of a statement: `$3, $4` (or `?, ?` on SQLite).
pub(crate) fn placeholder_list(sqlite: bool, before: usize, n: usize) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(n * 6);
    for i in 0..n {
        let sep = if i == 0 { "" } else { ", " };
        let _ = if sqlite { write!(text, "{sep}?") } else { write!(text, "{sep}${}", before + i + 1) };
    }
    text
}

/// `head VALUES ($1, $2), ($3, $4) tail` for `rows` rows of `columns` values (`?` on SQLite).
fn values_statement(head: &str, (rows, columns): (usize, usize), tail: &str, sqlite: bool) -> String {
    let mut text = String::with_capacity(head.len() + tail.len() + rows * (columns * 6 + 4) + 8);
    text.push_str(head);
    text.push_str("VALUES ");
    for r in 0..rows {
        text.push_str(if r == 0 { "(" } else { ", (" });
        text.push_str(&placeholder_list(sqlite, r * columns, columns));
        text.push(')');
    }
    text.push_str(tail);
    text
}

/// Where a read runs: on a pooled connection, or inside a write transaction that must see its own
/// uncommitted rows (a change that recounts a person's indicators before and after it).
pub(crate) enum Reader<'r> {
    Pool(&'r Store),
    Tx(&'r mut Tx),
}

impl Reader<'_> {
    pub async fn fetch_all<T: Row>(&mut self, s: Sql<'_>) -> Result<Vec<T>> {
        match self {
            Reader::Pool(store) => store.fetch_all(s).await,
            Reader::Tx(tx) => tx.fetch_all(s).await,
        }
    }
}

impl Store {
    /// Opens a write transaction. SQLite's begins IMMEDIATE, so that two writers queue on the lock
    /// instead of failing on a read-to-write upgrade.
    pub(crate) async fn begin_write(&self) -> Result<Tx> {
        Ok(match &self.backend {
            Backend::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Reads every row a statement returns, on a pooled connection.
    pub(crate) async fn fetch_all<T: Row>(&self, s: Sql<'_>) -> Result<Vec<T>> {
        Ok(match &self.backend {
            Backend::Sqlite(p) => query::<Sqlite>(s).try_map(|r| T::from_row(&r)).fetch_all(p).await?,
            Backend::Postgres(p) => query::<Postgres>(s).try_map(|r| T::from_row(&r)).fetch_all(p).await?,
        })
    }

    /// Reads the row a statement returns, if it returns one, on a pooled connection.
    pub(crate) async fn fetch_optional<T: Row>(&self, s: Sql<'_>) -> Result<Option<T>> {
        Ok(match &self.backend {
            Backend::Sqlite(p) => query::<Sqlite>(s).try_map(|r| T::from_row(&r)).fetch_optional(p).await?,
            Backend::Postgres(p) => query::<Postgres>(s).try_map(|r| T::from_row(&r)).fetch_optional(p).await?,
        })
    }

    /// The first column of the one row a statement returns, on a pooled connection.
    pub(crate) async fn scalar<T>(&self, s: Sql<'_>) -> Result<T>
    where
        (T,): Row,
    {
        let row: (T,) = match &self.backend {
            Backend::Sqlite(p) => query::<Sqlite>(s).try_map(|r| <(T,)>::from_row(&r)).fetch_one(p).await?,
            Backend::Postgres(p) => query::<Postgres>(s).try_map(|r| <(T,)>::from_row(&r)).fetch_one(p).await?,
        };
        Ok(row.0)
    }
}

#[cfg(test)]
mod tests {
    use super::values_statement;

    #[test]
    fn a_values_statement_numbers_every_placeholder_once() {
        assert_eq!(
            values_statement("INSERT INTO t (a, b) ", (2, 2), " ON CONFLICT DO NOTHING", false),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(values_statement("X ", (1, 1), "", false), "X VALUES ($1)");
        assert_eq!(values_statement("X ", (2, 2), "", true), "X VALUES (?, ?), (?, ?)");
    }
}
