//! Benchmark harnesses. Each prints a Markdown table for BENCHMARKS.md; none asserts a time.
//!
//!   cargo run --release -p hamroh-bench -- store-writes [--postgres URL] [--screenings N]
//!   cargo run --release -p hamroh-bench -- scoring [--n N]
//!   cargo run --release -p hamroh-bench -- import [--rows N] [--stored N] [--postgres URL]
//!   cargo run --release -p hamroh-bench -- load --url URL --token TOKEN [--clients N] [--seconds N]
//!   cargo run --release -p hamroh-bench -- openrosa --url URL --key KEY --token TOKEN [--clients N]
//!   cargo run --release -p hamroh-bench -- evidence --db URL [--db URL] --last-month YYYYMM [--live]
//!   cargo run --release -p hamroh-bench -- release --db URL --last-month YYYYMM [--scale N]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod evidence;
mod import;
mod load;
mod openrosa;
mod release;
mod scoring;
mod store_writes;
mod targets;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Hamroh benchmark harnesses")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Screenings stored per second through the store, one per transaction and batched
    StoreWrites(store_writes::Args),
    /// Validated instrument scorings per second in process, one thread
    Scoring(scoring::Args),
    /// The dashboard's main questions on a filled database, from the cube and from the records
    Evidence(evidence::Args),
    /// KoBoToolbox submissions read, checked and scored per second, and stored per second
    Import(import::Args),
    /// A clinic's request mix (90% reads, 10% writes) against a running server
    Load(load::Args),
    /// Offline devices: list and download every form; submissions accepted per second
    Openrosa(openrosa::Args),
    /// Disclosure control of a year's release, every indicator by every breakdown: time and loss
    Release(release::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().bench {
        Bench::StoreWrites(args) => store_writes::run(args).await,
        Bench::Evidence(args) => evidence::run(args).await,
        Bench::Import(args) => import::run(args).await,
        Bench::Load(args) => load::run(args).await,
        Bench::Openrosa(args) => openrosa::run(args).await,
        Bench::Release(args) => release::run(args).await,
        Bench::Scoring(args) => {
            scoring::run(args);
            Ok(())
        }
    }
}
