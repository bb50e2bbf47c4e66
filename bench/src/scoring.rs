//! Validated scorings per second in process, one thread: the engine's cost per screening.

use std::hint::black_box;
use std::time::Instant;

use hamroh_domain::instrument::{ScoreContext, catalog};
use hamroh_domain::person::Sex;

#[derive(clap::Args)]
pub struct Args {
    /// Scorings per instrument
    #[arg(long, default_value_t = 5_000_000)]
    n: usize,
}

/// Deterministic, valid answer sets for an instrument: every item answered, and only sets that
/// the skip rules accept.
fn answer_sets(id: &str, count: usize, ctx: &ScoreContext) -> Vec<Vec<Option<i64>>> {
    let inst = catalog().get(id).expect("known instrument");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    std::iter::repeat_with(|| {
        inst.items
            .iter()
            .map(|item| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let values: Vec<i64> = item.values(inst).collect();
                Some(values[(state % values.len() as u64) as usize])
            })
            .collect::<Vec<_>>()
    })
    .filter(|answers| inst.score(answers, ctx).is_ok())
    .take(count)
    .collect()
}

pub fn run(args: Args) {
    println!("| instrument | scorings | seconds | scorings/s (one core) |");
    println!("| --- | ---: | ---: | ---: |");
    for id in ["phq9", "gad7", "srq20", "pcl5", "wgss", "audit"] {
        let inst = catalog().get(id).expect("known instrument");
        let ctx = ScoreContext { sex: Some(Sex::Male), ..ScoreContext::default() };
        let sets = answer_sets(id, 1024, &ctx);
        let start = Instant::now();
        let mut checksum = 0i64;
        for n in 0..args.n {
            let score = inst.score(black_box(&sets[n % sets.len()]), &ctx).expect("valid answers");
            checksum += score.total.unwrap_or(0) + i64::from(score.positive == Some(true));
        }
        let seconds = start.elapsed().as_secs_f64();
        black_box(checksum);
        println!("| {id} | {} | {seconds:.3} | {:.0} |", args.n, args.n as f64 / seconds);
    }
}
