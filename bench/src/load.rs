//! Load against a running `hamroh serve`: a realistic clinic mix over HTTP with keep-alive
//! connections. Reads: person searches, person records and the clinic's worklist; writes
//! (each with an Idempotency-Key): PHQ-9 + GAD-7 screenings and referrals to a service that covers
//! the person's district and that the person consented to. Prints requests per second and latency
//! percentiles per kind. With `--rate`, requests are sent on a fixed schedule (open loop)
//! and each latency counts from the moment its request was due, so that a server falling behind
//! shows in the percentiles instead of slowing the clients down. With `--server-pid` it reports
//! the server's CPU time per request; with `--b-url` it drives two servers in turn, segment by
//! segment (an A/B comparison that a busy machine disturbs alike).

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
    /// Percent of requests that write (7 screenings to 3 referrals; the rest read: 7 searches to 9
    /// person records to 2 worklists)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=100))]
    writes: u64,
    /// Requests per second in all, sent on schedule; without it each client sends its next
    /// request as soon as the last is answered (the most the server can do)
    #[arg(long)]
    rate: Option<f64>,
    /// Send only requests of this kind (to see what one kind costs)
    #[arg(long, value_enum)]
    only: Option<Kind>,
    /// The server's process id: its CPU time (user + system, from /proc, with the processes under
    /// it, so a wrapper's id will do) per request answered is reported, which moves far less
    /// between runs on a shared machine than requests per second
    #[arg(long)]
    server_pid: Option<u32>,
    /// A second server to compare with (B; the first is A): the two are driven in turn, segment
    /// by segment, until each has had `--seconds`, so that whatever else the machine does falls
    /// on both alike
    #[arg(long)]
    b_url: Option<String>,
    /// B's token (default: the same as A's)
    #[arg(long)]
    b_token: Option<String>,
    /// B's process id, for its CPU per request
    #[arg(long)]
    b_server_pid: Option<u32>,
    /// Seconds of each segment when comparing A and B
    #[arg(long, default_value_t = 10)]
    segment: u64,
    /// How many of the clinic's persons to read and write, found by searching every demo given
    /// name with every birth year (50 at most each): a clinic's reads and writes fall on many
    /// people, and a pool too small grows histories no clinic has
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    pool: u64,
}

/// One server under load: where it is, who asks, what it is asked about.
struct Target {
    label: &'static str,
    url: String,
    auth: String,
    pid: Option<u32>,
    people: Vec<String>,
    pairs: Vec<(String, String)>,
}

/// What one server answered over all its segments.
#[derive(Default)]
struct Tally {
    seen: Vec<(Kind, f64, u16)>,
    seconds: f64,
    /// Clock ticks of the server's CPU time over its segments, if its process id is known.
    cpu_ticks: Option<u64>,
}

/// A process's parent and its user and system CPU time so far, in clock ticks (`/proc/PID/stat`
/// fields 4, 14 and 15).
fn stat(pid: u32) -> Option<(u32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let parent = fields.get(1)?.parse().ok()?;
    Some((parent, fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?))
}

/// The CPU time so far of a process and every process under it, in clock ticks: the id given may
/// be a wrapper's (a shell, `cargo run`) with the server beneath it, which alone would read as no
/// CPU at all.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let (_, own) = stat(pid)?;
    let mut parent_of: Vec<(u32, u32, u64)> = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(id) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if let Some((parent, ticks)) = stat(id) {
            parent_of.push((id, parent, ticks));
        }
    }
    let mut tree = vec![pid];
    let mut total = own;
    let mut i = 0;
    while i < tree.len() {
        for &(id, parent, ticks) in &parent_of {
            if parent == tree[i] && !tree.contains(&id) {
                tree.push(id);
                total += ticks;
            }
        }
        i += 1;
    }
    Some(total)
}

/// A process's command name, to say whose CPU was read.
fn command(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map_or_else(|_| "?".to_owned(), |c| c.trim().to_owned())
}

/// Clock ticks per second: 100 on Linux for x86_64 and aarch64 (`getconf CLK_TCK`).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, clap::ValueEnum)]
enum Kind {
    Search,
    Person,
    Worklist,
    Screening,
    Referral,
}

impl Kind {
    const ALL: [Kind; 5] = [Kind::Search, Kind::Person, Kind::Worklist, Kind::Screening, Kind::Referral];

    /// The kind of the request drawn as `n`, with `writes` percent writes.
    fn draw(n: u64, writes: u64) -> Kind {
        if (n >> 20) % 100 < writes {
            if (n >> 27) % 10 < 7 { Kind::Screening } else { Kind::Referral }
        } else {
            match (n >> 27) % 18 {
                0..7 => Kind::Search,
                7..16 => Kind::Person,
                _ => Kind::Worklist,
            }
        }
    }
}

/// How many persons' records are read to find whom referrals may be sent for.
const PROBED: usize = 2_000;

/// (person, service) pairs a referral may be sent for: the service covers the person's district
/// and the person consented to sharing with its sector.
async fn referable(
    client: &reqwest::Client,
    url: &str,
    auth: &str,
    people: &[String],
) -> anyhow::Result<Vec<(String, String)>> {
    let services: serde_json::Value = client.get(format!("{url}/api/v1/services")).send().await?.json().await?;
    let services = services.as_array().cloned().unwrap_or_default();
    let mut pairs = Vec::new();
    for person in people.iter().step_by(people.len().div_ceil(PROBED).max(1)) {
        let p: serde_json::Value = client
            .get(format!("{url}/api/v1/persons/{person}"))
            .header("Authorization", auth)
            .send()
            .await?
            .json()
            .await?;
        let consents: Vec<&str> = p["consents"].as_array().into_iter().flatten().filter_map(|c| c.as_str()).collect();
        for s in &services {
            let covers = s["districts"].as_array().into_iter().flatten().any(|d| d == &p["district"]);
            let sector = s["sector"].as_str().unwrap_or_default();
            if covers && consents.contains(&format!("sector:{sector}").as_str()) {
                pairs.extend(s["id"].as_str().map(|id| (person.clone(), id.to_owned())));
            }
        }
    }
    Ok(pairs)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = http_client(args.clients)?;
    let mut targets = vec![prepare(&client, "A", &args.url, &args.token, args.server_pid, args.pool).await?];
    if let Some(b) = &args.b_url {
        let token = args.b_token.as_deref().unwrap_or(&args.token);
        targets.push(prepare(&client, "B", b, token, args.b_server_pid, args.pool).await?);
    }
    // Every run draws the same sequence of requests, so the keys carry the run's start: a key
    // seen before would replay the stored answer (or refuse a different request) and write nothing.
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
    let mut tallies: Vec<Tally> = targets.iter().map(|_| Tally::default()).collect();
    let segment = if targets.len() > 1 { args.segment.clamp(1, args.seconds.max(1)) } else { args.seconds };
    let mut done = 0;
    let mut round = 0u64;
    while done < args.seconds {
        let length = segment.min(args.seconds - done);
        for (target, tally) in targets.iter().zip(&mut tallies) {
            let before = target.pid.and_then(cpu_ticks);
            let started = Instant::now();
            let seen = drive(target, &args, Duration::from_secs(length), format!("{run}-{round}")).await?;
            tally.seconds += started.elapsed().as_secs_f64();
            tally.seen.extend(seen);
            if let (Some(b), Some(a)) = (before, target.pid.and_then(cpu_ticks)) {
                tally.cpu_ticks = Some(tally.cpu_ticks.unwrap_or(0) + a.saturating_sub(b));
            }
        }
        done += length;
        round += 1;
    }
    if let Some(rate) = args.rate {
        println!("Asked for {rate:.0} requests/s on schedule; latencies count from when each was due.\n");
    }
    if targets.len() > 1 {
        println!("A and B driven in turn, {segment} s segments, {} s each.\n", args.seconds);
    }
    for (target, tally) in targets.iter().zip(&mut tallies) {
        report(target, tally, targets.len() > 1);
    }
    Ok(())
}

/// A client for `clients` concurrent requests. A request that takes more than a minute fails (it
/// counts with no status) rather than holding the run: one run was seen to wait forever, with no
/// connection open.
fn http_client(clients: usize) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
}

/// Finds the persons the clinician sees and the referrals they may be sent for.
async fn prepare(
    client: &reqwest::Client,
    label: &'static str,
    url: &str,
    token: &str,
    pid: Option<u32>,
    pool: u64,
) -> anyhow::Result<Target> {
    let auth = format!("Bearer {token}");
    // The people the clinician can see: the targets of reads and writes, a name and a birth year
    // at a time (a search shows 50 at most), until the pool is full.
    let names = hamroh_demo::MALE_GIVEN_NAMES.iter().chain(hamroh_demo::FEMALE_GIVEN_NAMES);
    let queries: Vec<String> = (1955..=2008).flat_map(|y| names.clone().map(move |n| format!("{n} {y}"))).collect();
    let mut people: Vec<String> = Vec::new();
    // Taken in a stride through the list (7919 is a prime that divides no count of queries here),
    // so that a small pool still spans every birth year and name.
    for q in (0..queries.len()).map(|k| &queries[k * 7919 % queries.len()]) {
        if people.len() as u64 >= pool {
            break;
        }
        let found: serde_json::Value = client
            .get(format!("{url}/api/v1/persons"))
            .query(&[("q", q.as_str())])
            .header("Authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        people.extend(found.as_array().into_iter().flatten().filter_map(|p| p["id"].as_str().map(str::to_owned)));
    }
    people.sort();
    people.dedup();
    anyhow::ensure!(!people.is_empty(), "{url}: the clinician sees nobody: load a demo data set first");
    let pairs = referable(client, url, &auth, &people).await?;
    anyhow::ensure!(!pairs.is_empty(), "{url}: no person the clinician sees may be referred to any service");
    eprintln!(
        "{label} {url}: {} persons to read and write; {} (person, service) pairs to refer",
        people.len(),
        pairs.len()
    );
    Ok(Target { label, url: url.to_owned(), auth, pid, people, pairs })
}

/// Drives one server for `length` with the mix (or `--only` one kind); what each request was,
/// how long it took and its status.
async fn drive(target: &Target, args: &Args, length: Duration, run: String) -> anyhow::Result<Vec<(Kind, f64, u16)>> {
    // Connections of its own: a connection left idle while the other server was driven may be
    // closed by its server just as it is used again, and fail a request that never reached it.
    let client = http_client(args.clients)?;
    let deadline = Instant::now() + length;
    let started = Instant::now();
    let mut tasks = Vec::new();
    // Each client's share of the schedule: one request every `period`, the clients staggered.
    let period = args.rate.map(|r| Duration::from_secs_f64(args.clients as f64 / r));
    for c in 0..args.clients {
        let (client, auth, url) = (client.clone(), target.auth.clone(), target.url.clone());
        let (people, pairs, run) = (target.people.clone(), target.pairs.clone(), run.clone());
        let (writes, only) = (args.writes, args.only);
        let mut due = period.map(|p| started + p.mul_f64(c as f64 / args.clients as f64));
        tasks.push(tokio::spawn(async move {
            let mut seen: Vec<(Kind, f64, u16)> = Vec::new();
            let mut n: u64 = c as u64 * 7919;
            while due.unwrap_or_else(Instant::now) < deadline {
                n = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let person = &people[(n >> 33) as usize % people.len()];
                let kind = only.unwrap_or_else(|| Kind::draw(n, writes));
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
                    Kind::Worklist => client.get(format!("{url}/api/v1/worklist")),
                    Kind::Referral => {
                        let (person, service) = &pairs[(n >> 33) as usize % pairs.len()];
                        client
                            .post(format!("{url}/api/v1/persons/{person}/referrals"))
                            .header("Idempotency-Key", format!("load-{run}-{c}-{n}"))
                            .json(&serde_json::json!({
                                "service_id": service, "reason": "load test", "urgency": "routine"
                            }))
                    }
                    Kind::Screening => client
                        .post(format!("{url}/api/v1/persons/{person}/encounters"))
                        .header("Idempotency-Key", format!("load-{run}-{c}-{n}"))
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
    Ok(all)
}

/// Prints one server's tables: requests, failures, latency percentiles by kind, CPU per request.
fn report(target: &Target, tally: &mut Tally, labelled: bool) {
    let all = &tally.seen;
    let seconds = tally.seconds;
    if labelled {
        println!("### {} ({})\n", target.label, target.url);
    }
    let failed = all.iter().filter(|(_, _, s)| !(200..300).contains(s)).count();
    if let Some(pid) = target.pid {
        println!("Server CPU: process {pid} ({}) and the processes under it.\n", command(pid));
        if tally.cpu_ticks == Some(0) && !all.is_empty() {
            println!("**Process {pid} and those under it used no CPU while answering: is it the server?**\n");
        }
    }
    println!("| requests | failed | seconds | requests/s | p50 ms | p99 ms | server CPU ms/request |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut latencies: Vec<f64> = all.iter().map(|x| x.1).collect();
    let cpu = tally
        .cpu_ticks
        .filter(|_| !all.is_empty())
        .map_or("-".to_owned(), |t| format!("{:.2}", t as f64 / TICKS_PER_SECOND * 1000.0 / all.len() as f64));
    println!(
        "| {} | {failed} | {seconds:.1} | {:.0} | {:.1} | {:.1} | {cpu} |",
        all.len(),
        all.len() as f64 / seconds,
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99)
    );
    let mut failures: std::collections::BTreeMap<(u16, Kind), usize> = Default::default();
    for (kind, _, status) in all.iter().filter(|(_, _, s)| !(200..300).contains(s)) {
        *failures.entry((*status, *kind)).or_default() += 1;
    }
    for ((status, kind), n) in failures {
        // Status 0: no answer at all (connection refused or reset).
        println!("failed: {n} {kind:?} with status {status}");
    }
    println!("\n| kind | requests | p50 ms | p99 ms |");
    println!("| --- | ---: | ---: | ---: |");
    for kind in Kind::ALL {
        let mut l: Vec<f64> = all.iter().filter(|x| x.0 == kind).map(|x| x.1).collect();
        let n = l.len();
        println!("| {kind:?} | {n} | {:.1} | {:.1} |", percentile(&mut l, 0.5), percentile(&mut l, 0.99));
    }
    println!();
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * q) as usize).min(values.len() - 1)]
}
