//! Throwaway databases for tests, on both backends. SQLite always; PostgreSQL when
//! `HAMROH_TEST_POSTGRES` holds the URL of a server where the tests may create databases.

use std::str::FromStr;

use uuid::Uuid;

use crate::{DbUrl, Store};

pub const POSTGRES_ENV: &str = "HAMROH_TEST_POSTGRES";

/// A fresh, migrated database that lives as long as this value (SQLite) or until
/// [`TestDb::cleanup`] (PostgreSQL: a database created for this test alone).
pub struct TestDb {
    pub store: Store,
    pub url: DbUrl,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        Self::sqlite_through(None).await
    }

    /// A SQLite database with the migrations up to `version` only (all for `None`).
    pub async fn sqlite_through(version: Option<i64>) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = DbUrl::Sqlite(dir.path().join("hamroh.db"));
        let store = open_through(&url, version).await;
        Self { store, url, admin: None, _dir: Some(dir) }
    }

    /// `None` when no PostgreSQL server was given.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_through(None).await
    }

    /// [`TestDb::postgres`] with the migrations up to `version` only (all for `None`).
    pub async fn postgres_through(version: Option<i64>) -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())?;
        let name = format!("hamroh_test_{}", Uuid::now_v7().simple());
        let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect to HAMROH_TEST_POSTGRES");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let url = DbUrl::from_str(&with_database(&admin_url, &name)).expect("test URL");
        let store = open_through(&url, version).await;
        Some(Self { store, url, admin: Some((admin_url, name)), _dir: None })
    }

    /// Both backends: SQLite, and PostgreSQL when configured.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite().await];
        dbs.extend(Self::postgres().await);
        dbs
    }

    /// Another fresh database on the same backend.
    pub async fn another(&self) -> Self {
        match self.url {
            DbUrl::Sqlite(_) => Self::sqlite().await,
            DbUrl::Postgres(_) => Self::postgres().await.expect("a PostgreSQL server, as for this database"),
        }
    }

    /// Every index of the database with the statement that builds it, as the catalogue keeps them.
    pub async fn indexes(&self) -> Vec<(String, String)> {
        match &self.url {
            DbUrl::Sqlite(path) => {
                let pool =
                    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.expect("raw connection");
                let rows = sqlx::query_as(
                    "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' ORDER BY name",
                )
                .fetch_all(&pool)
                .await
                .expect("indexes");
                pool.close().await;
                rows
            }
            DbUrl::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await.expect("raw connection");
                let rows = sqlx::query_as(
                    "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
                     ORDER BY indexname",
                )
                .fetch_all(&pool)
                .await
                .expect("indexes");
                pool.close().await;
                rows
            }
        }
    }

    /// Runs raw SQL on a separate connection, as someone with direct access to the database would.
    pub async fn tamper(&self, sql: &str) -> u64 {
        raw_execute(&self.url, sql).await
    }

    /// Drops a PostgreSQL test database; SQLite files go with the temporary directory.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.admin
            && let Ok(admin) = sqlx::PgPool::connect(&admin_url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&admin)
                .await;
            admin.close().await;
        }
    }
}

/// Opens a test database, migrated up to `version` (all for `None`). Every store test writes
/// through group commit, as `serve` does.
async fn open_through(url: &DbUrl, version: Option<i64>) -> Store {
    let store = match version {
        None => Store::open(url).await.expect("open the test database"),
        Some(v) => {
            let store = Store::connect(url).await.expect("connect to the test database");
            store.migrate_through(v).await.expect("migrate the test database");
            store
        }
    };
    store.with_group_commit()
}

/// Runs raw SQL against a database, bypassing the store (and its audit trail).
pub async fn raw_execute(url: &DbUrl, sql: &str) -> u64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match url {
        DbUrl::Sqlite(path) => {
            let pool =
                sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.expect("raw connection");
            let n = sqlx::query(sql).execute(&pool).await.expect("raw SQL").rows_affected();
            pool.close().await;
            n
        }
        DbUrl::Postgres(url) => {
            let pool = sqlx::PgPool::connect(url).await.expect("raw connection");
            let n = sqlx::query(sql).execute(&pool).await.expect("raw SQL").rows_affected();
            pool.close().await;
            n
        }
    }
}

/// The same server URL with another database name.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Whether a missing PostgreSQL server fails the PostgreSQL half instead of skipping it: under CI
/// (`CI=true`) and in `scripts/test`, which always starts one.
pub fn postgres_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true") || std::env::var_os("HAMROH_REQUIRE_POSTGRES").is_some()
}

/// Stamps out each named `async fn(&TestDb)` as two tests, `sqlite::NAME` and `postgres::NAME`;
/// the PostgreSQL one says it was skipped when no server was given, and fails instead where one is
/// required ([`postgres_required`]).
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let db = $crate::testing::TestDb::sqlite().await;
                    super::$test(&db).await;
                    db.cleanup().await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    let Some(db) = $crate::testing::TestDb::postgres().await else {
                        assert!(
                            !$crate::testing::postgres_required(),
                            "{} is not set, and this run requires PostgreSQL",
                            $crate::testing::POSTGRES_ENV
                        );
                        eprintln!("skipped: {} is not set", $crate::testing::POSTGRES_ENV);
                        return;
                    };
                    super::$test(&db).await;
                    db.cleanup().await;
                }
            )+
        }
    };
}
