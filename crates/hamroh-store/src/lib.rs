//! Hamroh's store: one interface over SQLite (embedded, the default) and PostgreSQL.
//!
//! Every query is written once, with `$n` placeholders that both drivers accept, and stamped out
//! for each pool type by the macros in [`sql`]. Dialect differences live in the two migration
//! folders and in [`Store::connect`], nowhere else. Every write records its audit event in the same
//! transaction (see [`audit`]).

#[macro_use]
mod sql;
#[macro_use]
mod exec;
mod accounts;
mod audit;
pub mod backup;
mod bookkeeping;
pub mod bulk;
mod clinical;
pub mod cube;
mod directory;
mod error;
pub mod facts;
mod gate;
mod group_commit;
pub mod idempotency;
mod lost;
mod migrations;
pub mod outbox;
mod partner_links;
mod person_codes;
mod record_changes;
mod records;
mod referrals;
pub mod releases;
mod submissions;
mod url;

#[cfg(feature = "testing")]
pub mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, SqlitePool};

pub use accounts::{ApiTokenInfo, LoginUser, SessionLimits, SessionUser, TokenPrincipal, UserSummary};
pub use audit::{Actor, AuditEvent, AuditProblem, NewAuditEvent};
pub use clinical::{PersonSummary, ReferralLine, UrgentItem};
pub use cube::Totals;
pub use error::{Result, StoreError};
pub use gate::{EncounterRecord, Gate, PersonPageRecord, ReferralRequest, WriteGrant};
pub use lost::{LostCase, LostCount};
pub use outbox::{
    Alert, AlertKind, Contact, Delivery, FileGateway, Gateway, LogGateway, NoticeKind, Notifier, OutboxMessage,
    ReferralNotice, Silent,
};
pub use partner_links::{DEFAULT_LINK_DAYS, LinkView, PartnerGate, PartnerLinkLine};
pub use record_changes::FieldChange;
pub use records::{ConsentDecision, Counts, EpisodeLine, ImportedSubmission};
pub use referrals::{
    FollowUpChange, FollowUpItem, HistoryLine, Listing, ReferralDetail, ReferralItem, ReferralResult, ServiceEntry,
    WORKLIST_ROWS,
};
pub use sqlx::Error as SqlxError;
pub use submissions::{HeldDecision, HeldRegistration, Received, SubmissionKey};
pub use url::{DbUrl, redact};

/// The connection pool of one backend.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Concurrent record writes share transactions through this, when started.
    pub(crate) group: Option<group_commit::GroupCommit>,
    /// Idempotency keys whose requests are running in this process.
    pub(crate) claims: idempotency::Claims,
    /// Person codes read before, for the worklists.
    pub(crate) codes: person_codes::PersonCodes,
    /// Sessions' and tokens' last-use times, written in the background.
    pub(crate) bookkeeping: bookkeeping::Pending,
}

/// The durability settings in force, reported at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durability {
    pub backend: &'static str,
    pub detail: String,
}

impl Store {
    /// Opens (creating a SQLite file if needed) without touching the schema.
    pub async fn connect(url: &DbUrl) -> Result<Self> {
        let backend = match url {
            DbUrl::Sqlite(path) => Backend::Sqlite(connect_sqlite(path).await?),
            DbUrl::Postgres(raw) => Backend::Postgres(connect_postgres(raw).await?),
        };
        Ok(Self {
            backend,
            group: None,
            claims: idempotency::Claims::default(),
            codes: Default::default(),
            bookkeeping: Default::default(),
        })
    }

    /// From now on, concurrent [`Store::insert_batch`] calls through this handle (and its clones)
    /// share transactions: one commit, one fsync, for every batch waiting. Needs a Tokio runtime.
    pub fn with_group_commit(mut self) -> Self {
        let writer = self.own_writer();
        let shared = Self {
            backend: self.backend.clone(),
            group: None,
            claims: self.claims.clone(),
            codes: self.codes.clone(),
            bookkeeping: self.bookkeeping.clone(),
        };
        self.group = Some(group_commit::GroupCommit::start(writer, shared));
        self
    }

    /// A handle that writes through a connection of its own (SQLite): a connection's page cache
    /// is discarded whenever another connection has written since its last transaction, so a
    /// writer taking any connection of the pool would start each commit with a cold cache.
    fn own_writer(&self) -> Self {
        let backend = match &self.backend {
            Backend::Sqlite(pool) => {
                Backend::Sqlite(sqlite_pool_options(1).connect_lazy_with((*pool.connect_options()).clone()))
            }
            Backend::Postgres(pool) => Backend::Postgres(pool.clone()),
        };
        Self {
            backend,
            group: None,
            claims: idempotency::Claims::default(),
            codes: Default::default(),
            bookkeeping: Default::default(),
        }
    }

    /// The writer of a bulk load: its own connection, as [`Store::own_writer`]; on SQLite with a
    /// page cache that holds what a chunk changes (a smaller one spills pages to the log in the
    /// middle of the transaction), the log synced at checkpoints rather than at each commit, and
    /// checkpoints after 1 GB of log rather than 40 MB, so that a page that several chunks change
    /// is copied back once. A crash can lose the last chunks; the load is unfinished then anyway,
    /// and finishing syncs everything (`bulk::finish`).
    pub(crate) fn bulk_writer(&self) -> Self {
        let mut writer = self.own_writer();
        if let Backend::Sqlite(pool) = &self.backend {
            let options = (*pool.connect_options())
                .clone()
                .synchronous(SqliteSynchronous::Normal)
                .pragma("cache_size", "-524288")
                .pragma("wal_autocheckpoint", "262144")
                // Building an index over millions of rows takes minutes, as expected.
                .disable_statement_logging();
            writer.backend = Backend::Sqlite(sqlite_pool_options(1).connect_lazy_with(options));
        }
        writer
    }

    /// Opens and brings the schema up to date.
    pub async fn open(url: &DbUrl) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        store.finish_interrupted_bulk_load().await?;
        store.fill_cube_if_empty().await?;
        Ok(store)
    }

    /// Applies the migrations up to `version` only: a test fills a database as an older release
    /// left it, then upgrades it with [`Store::migrate`].
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub async fn migrate_through(&self, version: i64) -> Result<()> {
        let all = match &self.backend {
            Backend::Sqlite(_) => migrations::sqlite(),
            Backend::Postgres(_) => migrations::postgres(),
        };
        let some =
            sqlx::migrate::Migrator::with_migrations(all.iter().filter(|m| m.version <= version).cloned().collect());
        match &self.backend {
            Backend::Sqlite(pool) => some.run(pool).await?,
            Backend::Postgres(pool) => some.run(pool).await?,
        }
        Ok(())
    }

    pub async fn migrate(&self) -> Result<()> {
        let migrator = match &self.backend {
            Backend::Sqlite(_) => migrations::sqlite(),
            Backend::Postgres(_) => migrations::postgres(),
        };
        // An upgrade of a large database can take minutes (building an index over millions of
        // rows): say so before the pause. A new database has no migrations table yet.
        let applied: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations").fetch_one(pool).await.unwrap_or(0)
        });
        let pending = migrator.iter().filter(|m| m.version > applied).count();
        if applied > 0 && pending > 0 {
            tracing::info!(pending, "upgrading the database schema; on a large database this can take minutes");
        }
        match &self.backend {
            Backend::Sqlite(pool) => migrator.run(pool).await?,
            Backend::Postgres(pool) => migrator.run(pool).await?,
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Reads back the settings that make an acknowledged write survive a crash.
    pub async fn durability(&self) -> Result<Durability> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await?;
                let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await?;
                let sync = match sync {
                    0 => "off",
                    1 => "normal",
                    2 => "full",
                    3 => "extra",
                    _ => "unknown",
                };
                Ok(Durability { backend: "sqlite", detail: format!("journal_mode={journal} synchronous={sync}") })
            }
            Backend::Postgres(pool) => {
                let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(pool).await?;
                let commit: String = sqlx::query_scalar("SHOW synchronous_commit").fetch_one(pool).await?;
                Ok(Durability { backend: "postgres", detail: format!("fsync={fsync} synchronous_commit={commit}") })
            }
        }
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}

async fn connect_sqlite(path: &Path) -> Result<SqlitePool> {
    let shown = path.display().to_string();
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(StoreError::Unwritable(format!("{shown}: directory {} does not exist", parent.display())));
    }
    // Durability: WAL with synchronous=FULL syncs the WAL on every commit, so an acknowledged write
    // survives a crash of the process or of the machine.
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Reads through a memory map (no copy per page) and a larger page cache per connection:
        // a district's database is read far more than it is written. A bigger map does not help:
        // SQLite caps it at 2 GB unless built otherwise, and with the cap raised a map of a whole
        // national database made the load slower, since every commit makes each reader drop its
        // map and fault the pages in again. No map at all costs about a tenth less CPU at 200,000
        // persons but a longer tail at 1,000 requests a second, and a far longer one at two
        // million (BENCHMARKS.md, "Reads without a memory map").
        .pragma("mmap_size", "1073741824")
        .pragma("cache_size", "-32768")
        // Statement journals of multi-row inserts stay in memory instead of spilling to a file.
        .pragma("temp_store", "memory")
        // Commits copy the log into the database file only once it holds 40 MB: under load a
        // background checkpoint does it first (see `group_commit`), off the writer's path.
        .pragma("wal_autocheckpoint", "10000")
        // Under load on the national data set the log grows to a few hundred MB between restarts
        // (every 10-20 s); after a restart its file is cut back to 64 MB instead of keeping its
        // largest size (875 MB was seen).
        .pragma("journal_size_limit", "67108864")
        // Multi-row inserts use a few statement texts per table (see `sql::insert_rows`): keep them.
        .statement_cache_capacity(400)
        // Rows travel from the connection's thread to the request one by one through a channel;
        // with room for a whole answer (a search's consent decisions are a few hundred rows)
        // the thread need not stop and wait for the request to take them.
        .row_buffer_size(1024);
    sqlite_pool_options(8)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Unwritable(format!("{shown}: {}", describe(&e))))
}

fn sqlite_pool_options(connections: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(connections)
        // A file, not a network peer: a connection cannot go stale, so no ping before each use.
        .test_before_acquire(false)
        // When a commit fails (an fsync error, a full disk), SQLite rolls the transaction back
        // itself, and the driver's own rollback then fails and leaves it counting an open
        // transaction: every later transaction on that connection would be refused. Such a
        // connection is closed instead of going back to the pool. (The ping lets a rollback the
        // driver has queued run first.)
        .after_release(|conn, _| {
            Box::pin(async move {
                if !sqlx::Connection::is_in_transaction(conn) {
                    return Ok(true);
                }
                sqlx::Connection::ping(conn).await?;
                Ok(!sqlx::Connection::is_in_transaction(conn))
            })
        })
        .acquire_timeout(Duration::from_secs(10))
}

async fn connect_postgres(url: &str) -> Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::InvalidUrl(format!("{}: {}", redact(url), describe(&e))))?;
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Unreachable(format!("{}: {}", redact(url), describe(&e))))
}

/// A driver error as one line, without the URL (which may hold a password).
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::PoolTimedOut => "timed out".to_owned(),
        other => other.to_string().lines().next().unwrap_or_default().to_owned(),
    }
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
