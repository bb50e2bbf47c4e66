//! The write path: screenings stored per second through `Store::insert_batch`, each with its audit
//! event, on SQLite (a file in a temporary directory, WAL, synchronous=FULL) and on PostgreSQL.

use std::time::Instant;

use hamroh_demo::{DemoConfig, DemoPeople, directory};
use hamroh_domain::model::{Batch, Screening};
use hamroh_store::{Actor, Store};

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
    /// Concurrent clients in the concurrent modes, each storing one screening per request
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Only the group-commit mode (to profile it alone)
    #[arg(long)]
    group_only: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let targets = crate::targets::fresh(dir.path(), args.postgres.as_deref()).await?;
    let screenings = sample_screenings(args.screenings * 4);
    println!("| backend | mode | screenings | seconds | screenings/s | p50 ms | p99 ms |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for target in targets {
        let (label, url) = (target.label, &target.url);
        let store = Store::open(url).await?;
        let people = setup(&store, &screenings).await?;
        let (single, rest) = screenings.split_at(args.screenings);
        let (batched, rest) = rest.split_at(args.screenings);
        let (plain, grouped) = rest.split_at(args.screenings);
        if args.group_only {
            let mode = format!("{} clients, group commit", args.clients);
            concurrent(label, &mode, store.clone().with_group_commit(), grouped, args.clients).await?;
            store.close().await;
            target.finish().await?;
            continue;
        }
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
        let mode = format!("{} clients, one transaction each", args.clients);
        concurrent(label, &mode, store.clone(), plain, args.clients).await?;
        let mode = format!("{} clients, group commit", args.clients);
        concurrent(label, &mode, store.clone().with_group_commit(), grouped, args.clients).await?;
        let verified = store.verify_audit().await?.map_err(|p| anyhow::anyhow!("{p}"))?;
        eprintln!("{label}: {people} people set up; audit chain intact ({verified} events)");
        store.close().await;
        target.finish().await?;
    }
    Ok(())
}

fn report(backend: &str, mode: &str, n: usize, seconds: f64) {
    println!("| {backend} | {mode} | {n} | {seconds:.2} | {:.0} | | |", n as f64 / seconds);
}

/// `clients` tasks store the screenings one per request, as many clinics submitting at once
/// would; every request is acknowledged only after its commit. Reports throughput and latency.
async fn concurrent(
    backend: &str,
    mode: &str,
    store: Store,
    screenings: &[Screening],
    clients: usize,
) -> anyhow::Result<()> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(screenings.to_vec()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (store, queue) = (store.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(s) = queue.lock().expect("queue").pop() else { break };
                let asked = Instant::now();
                store.insert_batch(&Actor::system("bench"), &Batch { screenings: vec![s], ..Batch::default() }).await?;
                latencies.push(asked.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "| {backend} | {mode} | {} | {seconds:.2} | {:.0} | {:.1} | {:.1} |",
        latencies.len(),
        latencies.len() as f64 / seconds,
        at(0.50),
        at(0.99)
    );
    Ok(())
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
