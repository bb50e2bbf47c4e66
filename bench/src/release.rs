//! Disclosure control at scale: protecting the release of every indicator for a year, by every
//! breakdown, on a database filled by `hamroh demo`. Two measures for each breakdown:
//!
//! - the page: what the dashboard does for it (`hamroh_analytics::tables_and_loss`, every indicator
//!   by month for the year, read from the cube, protected against the release history, logged);
//! - the protection alone, on the cube's counts multiplied by `--scale` (the same cells with the
//!   counts of a larger country: `--scale 10` on 200,000 persons stands for 2 million);
//! - a release a month later, of every metric, protected together with the one before (as a
//!   year's release layer is), on the scaled counts.
//!
//! With the cells counted, hidden, hidden as primary (below k or forced) and hidden because they
//! changed since a value they were shown with.

use std::time::Instant;

use hamroh_analytics::layer;
use hamroh_analytics::release::{Earlier, Loss, Release, Scope};
use hamroh_analytics::table::{build_from, records_from_cube, release_for};
use hamroh_analytics::{CATALOGUE, Dimension, PeriodKind, Query, Recipient, table};
use hamroh_store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// A database filled by `hamroh demo` (sqlite://PATH or postgres://...)
    #[arg(long)]
    db: String,
    /// The last month of the data set, YYYYMM (the demo's --as-of month); its year is released
    #[arg(long)]
    last_month: i64,
    /// Multiply every count by this for the protection alone
    #[arg(long, default_value_t = 1)]
    scale: i64,
}

fn row(what: &str, by: &str, seconds: f64, loss: &Loss) {
    let percent = |n: usize| if loss.cells == 0 { 0.0 } else { 100.0 * n as f64 / loss.cells as f64 };
    let someone = loss.hidden - loss.zeros;
    println!(
        "| {what} | {by} | {seconds:.2} | {} | {} ({:.1}%) | {someone} ({:.1}%) | {} | {} | {} |",
        loss.cells,
        loss.hidden,
        percent(loss.hidden),
        percent(someone),
        loss.primary,
        loss.changed,
        loss.fell_back
    );
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let store = Store::open(&args.db.parse()?).await?;
    let year = args.last_month / 100;
    let indicators: Vec<_> = CATALOGUE.iter().collect();
    let mut breakdowns: Vec<Option<Dimension>> = vec![None];
    breakdowns.extend(Dimension::ALL.into_iter().map(Some));
    let query = |by| Query {
        from: year * 100 + 1,
        to: args.last_month,
        period: PeriodKind::Month,
        by,
        k: hamroh_analytics::DEFAULT_K,
        min_share_group: hamroh_analytics::DEFAULT_MIN_SHARE_GROUP,
        as_of: args.last_month,
    };
    let to = Recipient { user_id: None, organisation_id: None, channel: "benchmark".to_owned() };
    let lost_cutoff = hamroh_store::now_millis() - 30 * 86_400_000;
    let start = Instant::now();
    let lost = store.lost_facts(year * 100 + 1, year * 100 + 12, lost_cutoff).await?;
    println!(
        "Reading the lost-to-follow-up facts alone: {:.2} s ({} facts).\n",
        start.elapsed().as_secs_f64(),
        lost.len()
    );
    println!("| release | breakdown | seconds | cells | hidden | hidden, not zero | primary | changed | fell back |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let (mut all_time, mut all_loss) = (0.0, Loss::default());
    for by in &breakdowns {
        let name = by.map_or("none", |b| b.as_str());
        let start = Instant::now();
        let (_, loss) = hamroh_analytics::tables_and_loss(&store, &indicators, &query(*by), lost_cutoff, &to).await?;
        let seconds = start.elapsed().as_secs_f64();
        row("page, as served", name, seconds, &loss);
        all_time += seconds;
        all_loss.add(&loss);
    }
    row("page, as served", "all breakdowns", all_time, &all_loss);

    let (mut all_time, mut all_loss) = (0.0, Loss::default());
    let metrics = table::metrics_of(&indicators);
    let reads = hamroh_analytics::cube_reads(&metrics);
    for by in &breakdowns {
        let name = by.map_or("none", |b| b.as_str());
        let dim = match by {
            None | Some(Dimension::Category) => "none",
            Some(b) => table::leaf(*b).as_str(),
        };
        let start = Instant::now();
        let mut rows = store.cube(dim, year * 100 + 1, year * 100 + 12, &reads).await?;
        let read = start.elapsed().as_secs_f64();
        for r in &mut rows {
            r.n *= args.scale;
        }
        let records = records_from_cube(rows, *by);
        let q = query(*by);
        let start = Instant::now();
        let release = release_for(&indicators, &records, &q, &Default::default());
        let tables: Vec<_> = indicators.iter().map(|i| build_from(i, &records, &q, &release)).collect();
        let seconds = start.elapsed().as_secs_f64();
        std::hint::black_box(tables);
        row(&format!("protection alone, counts x{} (cube read {read:.2} s)", args.scale), name, seconds, &release.loss);
        all_time += seconds;
        all_loss.add(&release.loss);
    }
    row(&format!("protection alone, counts x{}", args.scale), "all breakdowns", all_time, &all_loss);

    // Later releases of every metric, each protected together with those before it (as many as
    // the store keeps): a month later (the first release held the months before the last one,
    // each 2 % short: records entered late), an hour later (every count one in a thousand short,
    // the same months), and the sixth of six releases an hour apart (the five before it each a
    // thousandth shorter than the next).
    let metrics: Vec<_> = table::metrics_of(&CATALOGUE.iter().collect::<Vec<_>>());
    let reads = hamroh_analytics::cube_reads(&metrics);
    let previous_month = if args.last_month % 100 == 1 { args.last_month } else { args.last_month - 1 };
    let kept = hamroh_store::releases::EARLIER_LAYERS_KEPT as usize + 1;
    for (what, short, as_of_before, earlier_releases) in [
        ("a month later, with the release before", 50, previous_month, 1),
        ("an hour later, with the release before", 1000, args.last_month, 1),
        ("the sixth hourly release, with the five before", 1000, args.last_month, kept),
    ] {
        let label = format!("every metric, {what}, counts x{}", args.scale);
        let (mut all_time, mut all_loss, mut history_only) = (0.0, Loss::default(), Loss::default());
        for by in layer::BREAKDOWNS {
            let name = by.map_or("none", |b| b.as_str());
            let dim = by.map_or("none", |b| table::leaf(b).as_str());
            let mut rows = store.cube(dim, year * 100 + 1, year * 100 + 12, &reads).await?;
            for r in &mut rows {
                r.n *= args.scale;
            }
            let scope =
                |as_of| Scope { years: vec![year], as_of, by, k: hamroh_analytics::DEFAULT_K, min_share_group: 10 };
            // The earlier releases, oldest first, each protected together with those before it.
            let mut chain: Vec<(Vec<table::Record>, Release)> = Vec::new();
            let mut shown = std::collections::BTreeMap::new();
            for i in 0..earlier_releases {
                let mut earlier_rows = rows.clone();
                earlier_rows.retain(|r| r.month <= as_of_before);
                let thousandths = (earlier_releases - i) as i64;
                for r in &mut earlier_rows {
                    r.n -= r.n * thousandths / short;
                }
                let records = layer::canonical(records_from_cube(earlier_rows, by));
                let before: Vec<Earlier> =
                    chain.iter().map(|(records, release)| Earlier { records, release }).collect();
                let release =
                    Release::protect(&records, metrics.iter().copied(), &scope(as_of_before), &shown, &before);
                hamroh_analytics::release::add_published(&mut shown, &release.published);
                chain.push((records, release));
            }
            let now = layer::canonical(records_from_cube(rows, by));
            let start = Instant::now();
            let before: Vec<Earlier> = chain.iter().map(|(records, release)| Earlier { records, release }).collect();
            let last = Release::protect(&now, metrics.iter().copied(), &scope(args.last_month), &shown, &before);
            let seconds = start.elapsed().as_secs_f64();
            row(&label, name, seconds, &last.loss);
            all_time += seconds;
            all_loss.add(&last.loss);
            // Side by side: the same release against the history of values alone.
            let alone = Release::protect(&now, metrics.iter().copied(), &scope(args.last_month), &shown, &[]);
            history_only.add(&alone.loss);
        }
        row(&label, "all breakdowns", all_time, &all_loss);
        row(
            &format!("the same, against the values shown only (no layers), counts x{}", args.scale),
            "all breakdowns",
            0.0,
            &history_only,
        );
    }
    Ok(())
}
