//! Load against a running `hamroh serve`: a realistic clinic mix over HTTP with keep-alive
//! connections, 90% reads (person searches, person records, their screenings) and 10% writes
//! (PHQ-9 + GAD-7 screenings, each with an Idempotency-Key). Prints requests per second and
//! latency percentiles per kind. With `--rate`, requests are sent on a fixed schedule (open loop)
//! and each latency counts from the moment its request was due, so that a server falling behind
//! shows in the percentiles instead of slowing the clients down.

use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// The server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: String,
    /// An API token of a clinician (persons:read and persons:write)
    #[arg(long)]
    token: String,
    /// Concurrent clients
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds to run
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Percent of requests that write (the rest read: 4 searches to 5 person records)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=100))]
    writes: u64,
    /// Requests per second in all, sent on schedule; without it each client sends its next
    /// request as soon as the last is answered (the most the server can do)
    #[arg(long)]
    rate: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Search,
    Person,
    Write,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.clients).build()?;
    let auth = format!("Bearer {}", args.token);
    // The people the clinician can see: the targets of reads and writes.
    let mut people: Vec<String> = Vec::new();
    for q in ["a", "e", "i", "o", "u", "1990", "1985"] {
        let found: serde_json::Value = client
            .get(format!("{}/api/v1/persons", args.url))
            .query(&[("q", q), ("limit", "100")])
            .header("Authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        people.extend(found.as_array().into_iter().flatten().filter_map(|p| p["id"].as_str().map(str::to_owned)));
    }
    people.sort();
    people.dedup();
    anyhow::ensure!(!people.is_empty(), "the clinician sees nobody: load a demo data set first");
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    // Each client's share of the schedule: one request every `period`, the clients staggered.
    let period = args.rate.map(|r| Duration::from_secs_f64(args.clients as f64 / r));
    for c in 0..args.clients {
        let (client, auth, url, people) = (client.clone(), auth.clone(), args.url.clone(), people.clone());
        let writes = args.writes;
        let mut due = period.map(|p| started + p.mul_f64(c as f64 / args.clients as f64));
        tasks.push(tokio::spawn(async move {
            let mut seen: Vec<(Kind, f64, u16)> = Vec::new();
            let mut n: u64 = c as u64 * 7919;
            while due.unwrap_or_else(Instant::now) < deadline {
                n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let person = &people[(n >> 33) as usize % people.len()];
                let kind = if (n >> 20) % 100 < writes {
                    Kind::Write
                } else if (n >> 27) % 9 < 4 {
                    Kind::Search
                } else {
                    Kind::Person
                };
                let asked = match (due.as_mut(), period) {
                    (Some(at), Some(p)) => {
                        tokio::time::sleep_until((*at).into()).await;
                        std::mem::replace(at, *at + p)
                    }
                    _ => Instant::now(),
                };
                let request = match kind {
                    Kind::Search => client
                        .get(format!("{url}/api/v1/persons"))
                        .query(&[("q", ["Rahim", "Nazar", "1990", "Sharif", "Kar"][(n >> 40) as usize % 5])]),
                    Kind::Person => client.get(format!("{url}/api/v1/persons/{person}")),
                    Kind::Write => client
                        .post(format!("{url}/api/v1/persons/{person}/encounters"))
                        .header("Idempotency-Key", format!("load-{c}-{n}"))
                        .json(&serde_json::json!({"screenings": [
                            {"instrument": "phq9", "answers": [1, 0, 2, 1, 0, 1, 0, 0, 0]},
                            {"instrument": "gad7", "answers": [1, 1, 0, 0, 2, 1, 0]}
                        ]})),
                };
                let status = match request.header("Authorization", &auth).send().await {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                seen.push((kind, asked.elapsed().as_secs_f64() * 1000.0, status));
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(rate) = args.rate {
        println!("Asked for {rate:.0} requests/s on schedule; latencies count from when each was due.\n");
    }
    let failed = all.iter().filter(|(_, _, s)| !(200..300).contains(s)).count();
    println!("| requests | failed | seconds | requests/s | p50 ms | p99 ms |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut latencies: Vec<f64> = all.iter().map(|x| x.1).collect();
    println!(
        "| {} | {failed} | {seconds:.1} | {:.0} | {:.1} | {:.1} |",
        all.len(),
        all.len() as f64 / seconds,
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99)
    );
    println!("\n| kind | requests | p50 ms | p99 ms |");
    println!("| --- | ---: | ---: | ---: |");
    for kind in [Kind::Search, Kind::Person, Kind::Write] {
        let mut l: Vec<f64> = all.iter().filter(|x| x.0 == kind).map(|x| x.1).collect();
        let n = l.len();
        println!("| {kind:?} | {n} | {:.1} | {:.1} |", percentile(&mut l, 0.5), percentile(&mut l, 0.99));
    }
    Ok(())
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * q) as usize).min(values.len() - 1)]
}
