//! The dashboard's main questions, timed on databases filled by `hamroh demo`: every indicator for
//! one quarter by region, and one indicator by district for each of 24 months. Each is answered
//! from the indicator cube (what the dashboard does) and from the records directly (the live
//! definitions), and the time from storing a screening to seeing it counted is measured.

use std::time::Instant;

use hamroh_analytics::table::{build, records};
use hamroh_analytics::{CATALOGUE, Dimension, PeriodKind, Query};
use hamroh_domain::model::Batch;
use hamroh_store::{Actor, Store};

#[derive(clap::Args)]
pub struct Args {
    /// Databases filled by `hamroh demo` (sqlite://PATH or postgres://...), repeatable
    #[arg(long = "db", required = true)]
    dbs: Vec<String>,
    /// The last month of the data set, YYYYMM (the demo's --as-of month)
    #[arg(long)]
    last_month: i64,
    /// Runs of each question; the median is reported
    #[arg(long, default_value_t = 15)]
    runs: usize,
    /// Also answer from the records directly (slow on large data sets)
    #[arg(long)]
    live: bool,
}

fn months_back(month: i64, n: i64) -> i64 {
    let total = (month / 100) * 12 + (month % 100 - 1) - n;
    (total / 12) * 100 + total % 12 + 1
}

fn median_ms(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2] * 1000.0
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let last = args.last_month;
    // The last whole quarter before the last month.
    let quarter_end = months_back(last, (last % 100 - 1) % 3 + 1);
    let quarter = Query {
        from: months_back(quarter_end, 2),
        to: quarter_end,
        period: PeriodKind::Quarter,
        by: Some(Dimension::Region),
        k: 5,
        min_share_group: hamroh_analytics::DEFAULT_MIN_SHARE_GROUP,
        as_of: last,
    };
    let months24 = Query {
        from: months_back(last, 23),
        to: last,
        period: PeriodKind::Month,
        by: Some(Dimension::District),
        ..quarter
    };
    let all: Vec<_> = CATALOGUE.iter().filter(|i| i.id != "lost_to_follow_up").collect();
    let screened = vec![hamroh_analytics::indicator("depression_positive").expect("in the catalogue")];
    println!("| backend | question | source | median ms | runs |");
    println!("| --- | --- | --- | ---: | ---: |");
    // Each look is a release like a dashboard's, recorded in the release log.
    let to = hamroh_analytics::Recipient { user_id: None, organisation_id: None, channel: "benchmark".to_owned() };
    for db in &args.dbs {
        let store = Store::open(&db.parse()?).await?;
        let label = store.backend_name();
        for (name, query, indicators) in [
            ("every indicator, one quarter, by region", &quarter, &all),
            ("depression, 24 months, by district", &months24, &screened),
        ] {
            let mut times = Vec::new();
            for _ in 0..args.runs {
                let start = Instant::now();
                let tables = hamroh_analytics::tables(&store, indicators, query, i64::MIN, &to).await?;
                std::hint::black_box(tables);
                times.push(start.elapsed().as_secs_f64());
            }
            println!("| {label} | {name} | cube | {:.1} | {} |", median_ms(times), args.runs);
            if args.live {
                let runs = 3;
                let mut times = Vec::new();
                for _ in 0..runs {
                    let start = Instant::now();
                    let facts = store.facts(query.from, query.to, i64::MIN).await?;
                    let recs = records(facts, query.by);
                    let tables: Vec<_> = indicators.iter().map(|i| build(i, &recs, query)).collect();
                    std::hint::black_box(tables);
                    times.push(start.elapsed().as_secs_f64());
                }
                println!("| {label} | {name} | records (live queries) | {:.1} | {runs} |", median_ms(times));
            }
        }
        // Freshness: store one screening, then ask; the count must already include it.
        let before = count_screened(&store, last).await?;
        let mut screening = sample_screening(&store, last).await?;
        let start = Instant::now();
        screening.id = uuid::Uuid::now_v7();
        store.insert_batch(&Actor::system("bench"), &Batch { screenings: vec![screening], ..Batch::default() }).await?;
        let after = count_screened(&store, last).await?;
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(after == before + 1, "the new screening is not counted ({before} -> {after})");
        println!("| {label} | store a screening, then count it | cube | {elapsed:.1} | 1 |");
        store.close().await;
    }
    Ok(())
}

async fn count_screened(store: &Store, month: i64) -> anyhow::Result<i64> {
    let rows = store.cube("none", month, month, &[(hamroh_store::facts::Measure::Screened, None)]).await?;
    Ok(rows.iter().filter(|r| r.measure == hamroh_store::facts::Measure::Screened).map(|r| r.n).sum())
}

/// A screening like the demo's, for a person already stored, dated in `month`.
async fn sample_screening(store: &Store, month: i64) -> anyhow::Result<hamroh_domain::model::Screening> {
    let person = store.any_person().await?.ok_or_else(|| anyhow::anyhow!("the database holds no person"))?;
    let dir = hamroh_demo::directory();
    let config = hamroh_demo::DemoConfig { people: 1_000, seed: 12, as_of: jiff::civil::date(2026, 11, 1) };
    let mut people = hamroh_demo::DemoPeople::new(config, &dir);
    let chunk = people.next_chunk(100).expect("demo people");
    let mut s = chunk.screenings.into_iter().next().expect("a demo screening");
    s.person_id = person.0;
    s.organisation_id = person.1;
    s.encounter_at = hamroh_store::facts::month_start_ms(month) + 3_600_000;
    Ok(s)
}
