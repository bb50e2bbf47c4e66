//! Offline devices against a running `hamroh serve`: the time a device takes to list and download
//! every form (as ODK Collect does on "Download form"), and submissions accepted per second from
//! many devices at once (PHQ-9 instances for persons the key's user may write, multipart as
//! ODK Collect sends them, each a new instance id).

use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// The server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: String,
    /// A device key (an API token with the scope openrosa) of a clinician
    #[arg(long)]
    key: String,
    /// An API token of the same clinician with persons:read, to find whom to submit for
    #[arg(long)]
    token: String,
    /// Devices sending at once
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of submitting
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Times the form list and every form are fetched
    #[arg(long, default_value_t = 20)]
    rounds: usize,
}

const BOUNDARY: &str = "----hamrohbench";

fn instance(code: &str, n: u64) -> String {
    let answer = |i: u64| (n >> (i * 2)) % 3;
    let items: String = (1..=8).map(|i| format!("<q{i}>{}</q{i}>", answer(i))).collect();
    let xml = format!(
        "<?xml version='1.0' ?><data id=\"phq9\"><person_code_scan/><person_code_typed>{code}</person_code_typed>\
         <person_code>{code}</person_code><respondent_lang>tg</respondent_lang><interview_at>{}</interview_at>\
         <phq9><instructions/>{items}<q9>0</q9><q10>0</q10></phq9><meta><instanceID>uuid:{}</instanceID></meta></data>",
        jiff::Timestamp::now(),
        uuid::Uuid::now_v7()
    );
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"submission.xml\"\r\n\
         Content-Type: text/xml\r\n\r\n{xml}\r\n--{BOUNDARY}--\r\n"
    )
}

fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(((values.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.clients).build()?;
    let base = format!("{}/openrosa/key/{}", args.url, args.key);
    let auth = format!("Bearer {}", args.token);
    let mut codes: Vec<String> = Vec::new();
    for q in (1960..=2005).map(|y| y.to_string()) {
        let found: serde_json::Value = client
            .get(format!("{}/api/v1/persons", args.url))
            .query(&[("q", q.as_str()), ("limit", "50")])
            .header("Authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        codes.extend(found.as_array().into_iter().flatten().filter_map(|p| p["code"].as_str().map(str::to_owned)));
    }
    anyhow::ensure!(!codes.is_empty(), "the clinician sees nobody: load a demo data set first");

    // A device's "Download form": the list, then every form it names.
    let mut rounds = Vec::new();
    let mut bytes = 0;
    let mut forms = 0;
    for _ in 0..args.rounds {
        let start = Instant::now();
        let list = client.get(format!("{base}/formList")).header("X-OpenRosa-Version", "1.0").send().await?;
        anyhow::ensure!(list.status().is_success(), "formList: {}", list.status());
        let list = list.text().await?;
        let urls: Vec<&str> =
            list.split("<downloadUrl>").skip(1).filter_map(|s| s.split("</downloadUrl>").next()).collect();
        (forms, bytes) = (urls.len(), 0);
        for url in urls {
            bytes += client.get(url).header("X-OpenRosa-Version", "1.0").send().await?.bytes().await?.len();
        }
        rounds.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let median = percentile(&mut rounds, 0.5);
    let fastest = percentile(&mut rounds, 0.0);

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (client, base, codes) = (client.clone(), base.clone(), codes.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            let mut n = (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            while Instant::now() < deadline {
                n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let code = &codes[(n >> 33) as usize % codes.len()];
                let sent = Instant::now();
                let answer = client
                    .post(format!("{base}/submission"))
                    .header("X-OpenRosa-Version", "1.0")
                    .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
                    .body(instance(code, n))
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => failed += 1,
                }
            }
            (latencies, failed)
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (l, f) = t.await?;
        latencies.extend(l);
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| forms listed and downloaded | {forms} forms, {:.0} kB |", bytes as f64 / 1000.0);
    println!("| list + download all, median of {} | {median:.1} ms (fastest {fastest:.1} ms) |", args.rounds);
    println!(
        "| submissions accepted (201) | {} in {elapsed:.1} s: {:.0}/s |",
        latencies.len(),
        latencies.len() as f64 / elapsed
    );
    println!(
        "| submission latency p50 / p99 | {:.1} / {:.1} ms |",
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99)
    );
    println!("| failed submissions | {failed} |");
    Ok(())
}
