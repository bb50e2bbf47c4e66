//! The write path: screenings stored per second through `Store::insert_batch`, each with its audit
//! event, on SQLite (a file in a temporary directory, WAL, synchronous=FULL) and on PostgreSQL.

use std::time::Instant;

use hamroh_demo::{DemoConfig, DemoPeople, directory};
use hamroh_domain::model::{Batch, Screening};
use hamroh_store::{Actor, DbUrl, Store};

#[derive(clap::Args)]
pub struct Args {
    /// A PostgreSQL server where the bench may create a database (also HAMROH_BENCH_POSTGRES)
    #[arg(long, env = "HAMROH_BENCH_POSTGRES")]
    postgres: Option<String>,
    /// Screenings to store in each mode
    #[arg(long, default_value_t = 5_000)]
    screenings: usize,
    /// Screenings per transaction in the batched mode
    #[arg(long, default_value_t = 500)]
    batch: usize,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut targets = vec![("SQLite", DbUrl::Sqlite(dir.path().join("bench.db")), None)];
    if let Some(admin) = &args.postgres {
        let name = format!("hamroh_bench_{}", uuid::Uuid::now_v7().simple());
        let pool = sqlx::PgPool::connect(admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await?;
        let url = hamroh_store::testing::with_database(admin, &name);
        targets.push(("PostgreSQL", url.parse()?, Some((pool, name))));
    }
    let screenings = sample_screenings(args.screenings * 2);
    println!("| backend | mode | screenings | seconds | screenings/s |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for (label, url, admin) in targets {
        let store = Store::open(&url).await?;
        let people = setup(&store, &screenings).await?;
        let (single, batched) = screenings.split_at(args.screenings);
        let start = Instant::now();
        for s in single {
            store
                .insert_batch(&Actor::system("bench"), &Batch { screenings: vec![s.clone()], ..Batch::default() })
                .await?;
        }
        report(label, "one per transaction", single.len(), start.elapsed().as_secs_f64());
        let start = Instant::now();
        for chunk in batched.chunks(args.batch) {
            store
                .insert_batch(&Actor::system("bench"), &Batch { screenings: chunk.to_vec(), ..Batch::default() })
                .await?;
        }
        report(label, &format!("{} per transaction", args.batch), batched.len(), start.elapsed().as_secs_f64());
        let verified = store.verify_audit().await?.map_err(|p| anyhow::anyhow!("{p}"))?;
        eprintln!("{label}: {people} people set up; audit chain intact ({verified} events)");
        store.close().await;
        if let Some((pool, name)) = admin {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&pool).await?;
        }
    }
    Ok(())
}

fn report(backend: &str, mode: &str, n: usize, seconds: f64) {
    println!("| {backend} | {mode} | {n} | {seconds:.2} | {:.0} |", n as f64 / seconds);
}

/// Demo screenings (real answers, scored by the engine), with fresh ids for the bench.
fn sample_screenings(n: usize) -> Vec<Screening> {
    let dir = directory();
    let config = DemoConfig { people: 100_000, seed: 99, as_of: jiff::civil::date(2026, 11, 1) };
    let mut people = DemoPeople::new(config, &dir);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let chunk = people.next_chunk(500).expect("enough demo people");
        out.extend(chunk.screenings.into_iter().map(|mut s| {
            s.id = uuid::Uuid::now_v7();
            s
        }));
    }
    out.truncate(n);
    out
}

/// Stores the directory and the people the screenings belong to.
async fn setup(store: &Store, screenings: &[Screening]) -> anyhow::Result<usize> {
    let dir = directory();
    let actor = Actor::system("bench");
    store
        .insert_batch(
            &actor,
            &Batch { organisations: dir.organisations.clone(), services: dir.services.clone(), ..Batch::default() },
        )
        .await?;
    let wanted: std::collections::HashSet<_> = screenings.iter().map(|s| s.person_id).collect();
    let config = DemoConfig { people: 100_000, seed: 99, as_of: jiff::civil::date(2026, 11, 1) };
    let mut people = DemoPeople::new(config, &dir);
    let mut stored = 0;
    while stored < wanted.len() {
        let Some(chunk) = people.next_chunk(500) else {
            break;
        };
        let persons: Vec<_> = chunk.persons.into_iter().filter(|p| wanted.contains(&p.person.id)).collect();
        stored += persons.len();
        store.insert_batch(&actor, &Batch { persons, ..Batch::default() }).await?;
    }
    Ok(stored)
}
