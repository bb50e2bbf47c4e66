//! Fresh databases to benchmark on: SQLite in a temporary directory, and a new database on a
//! PostgreSQL server when one is given (dropped afterwards).

use hamroh_store::DbUrl;

pub struct Target {
    pub label: &'static str,
    pub url: DbUrl,
    admin: Option<(sqlx::PgPool, String)>,
}

impl Target {
    /// Drops the PostgreSQL database made for the run.
    pub async fn finish(self) -> anyhow::Result<()> {
        if let Some((pool, name)) = self.admin {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&pool).await?;
        }
        Ok(())
    }
}

/// SQLite in `dir`, and PostgreSQL on `postgres` (an admin URL) if given.
pub async fn fresh(dir: &std::path::Path, postgres: Option<&str>) -> anyhow::Result<Vec<Target>> {
    let mut targets = vec![Target { label: "SQLite", url: DbUrl::Sqlite(dir.join("bench.db")), admin: None }];
    if let Some(admin) = postgres {
        let name = format!("hamroh_bench_{}", uuid::Uuid::now_v7().simple());
        let pool = sqlx::PgPool::connect(admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await?;
        let url = hamroh_store::testing::with_database(admin, &name).parse()?;
        targets.push(Target { label: "PostgreSQL", url, admin: Some((pool, name)) });
    }
    Ok(targets)
}
