//! `hamroh demo` and `serve --demo`: load a deterministic synthetic data set.

use std::process::ExitCode;

use anyhow::Context;
use hamroh_demo::{DemoConfig, DemoDirectory, DemoPeople, directory};
use hamroh_domain::model::{Batch, User};
use hamroh_domain::org::Lang;
use hamroh_store::{Actor, Store};
use indicatif::{ProgressBar, ProgressStyle};

use super::{Failure, Outcome, open};

/// People stored per transaction. Their records land on the same index pages more often the more
/// of them one commit holds, and each page is written to the log once per commit: 5,000 loaded
/// 100,000 people in two thirds of the time 1,000 took (BENCHMARKS.md); 10,000 did no better.
const CHUNK: u64 = 5_000;

pub async fn run(db: &str, people: u64, seed: u64, as_of: Option<&str>, force: bool) -> Outcome {
    let as_of = match as_of {
        Some(text) => {
            text.parse().map_err(|_| Failure::usage(format!("--as-of `{text}` is not a date (YYYY-MM-DD)")))?
        }
        None => today(),
    };
    let store = open(db).await?;
    if store.has_persons().await? && !force {
        return Err(Failure::usage(
            "the database already holds people; refusing to add demo data to it (use --force to add anyway)",
        ));
    }
    let dir = load(&store, DemoConfig { people, seed, as_of }, true).await?;
    print_logins(&dir);
    Ok(ExitCode::SUCCESS)
}

/// Today in Dushanbe (UTC+5).
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).date()
}

/// Stores the demo directory (unless already there) and the people, with a progress bar.
pub async fn load(store: &Store, config: DemoConfig, progress: bool) -> Result<DemoDirectory, Failure> {
    let actor = Actor::system("demo");
    let dir = directory();
    if store.user_for_login(dir.logins[0].username).await?.is_none() {
        let batch = directory_batch(&dir).await?;
        store.insert_batch(&actor, &batch).await.context("storing the demo organisations and users")?;
        // Reserved addresses (.invalid): notifications to them go to the outbox, never out.
        for user in &batch.users {
            let email = format!("{}@demo.hamroh.invalid", user.username);
            store.set_contact(&actor, user.id, Some(&email), None).await.context("storing demo contacts")?;
        }
    }
    let bar = if progress { ProgressBar::new(config.people) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} people, {per_sec}, {eta} left")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("demo");
    let mut people = DemoPeople::new(config, &dir);
    let started = std::time::Instant::now();
    // Each chunk holds every record of its people, as a bulk load needs.
    let bulk = store.begin_bulk_load().await.context("setting the indexes aside for the load")?;
    // The next chunk is generated while the last one is written: one core each.
    let mut writing: Option<(u64, tokio::task::JoinHandle<hamroh_store::Result<()>>)> = None;
    loop {
        let next = people.next_chunk(CHUNK);
        if let Some((n, write)) = writing.take() {
            write.await.map_err(|e| Failure { code: 1, message: e.to_string() })?.map_err(|e| match e {
                hamroh_store::StoreError::Database(ref db)
                    if db.as_database_error().is_some_and(|d| d.is_unique_violation()) =>
                {
                    Failure::usage(format!(
                        "demo data set with seed {} is already loaded; choose another --seed",
                        config.seed
                    ))
                }
                other => Failure::from(other),
            })?;
            bar.inc(n);
        }
        let Some(batch) = next else { break };
        let (bulk, actor) = (bulk.clone(), actor.clone());
        writing = Some((batch.persons.len() as u64, tokio::spawn(async move { bulk.insert(&actor, &batch).await })));
    }
    let rows = started.elapsed();
    bar.set_message("building indexes and worklists");
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    bulk.finish().await.context("building the indexes and worklists after the load")?;
    bar.finish_and_clear();
    let (rows_s, indexes_s) = (rows.as_secs_f64(), (started.elapsed() - rows).as_secs_f64());
    tracing::info!(
        people = config.people,
        seed = config.seed,
        as_of = %config.as_of,
        rows_s,
        indexes_s,
        "demo data loaded"
    );
    Ok(dir)
}

async fn directory_batch(dir: &DemoDirectory) -> Result<Batch, Failure> {
    let logins = dir.logins.clone();
    // Argon2 is deliberately slow: hash off the async threads.
    let users = tokio::task::spawn_blocking(move || {
        logins
            .iter()
            .map(|l| {
                Ok(User {
                    id: l.id,
                    organisation_id: l.organisation_id,
                    username: l.username.to_owned(),
                    display_name: l.display_name.to_owned(),
                    password_hash: hamroh_web::password::hash(l.password)?,
                    roles: vec![l.role],
                    lang: Lang::Tg,
                    disabled: false,
                })
            })
            .collect::<Result<Vec<_>, String>>()
    })
    .await
    .map_err(|e| Failure { code: 1, message: e.to_string() })?
    .map_err(|e| Failure { code: 1, message: e })?;
    Ok(Batch { organisations: dir.organisations.clone(), services: dir.services.clone(), users, ..Batch::default() })
}

pub fn print_logins(dir: &DemoDirectory) {
    println!("Demo users (username / password, role, organisation):");
    for login in &dir.logins {
        let org = dir.organisations.iter().find(|o| o.id == login.organisation_id).map_or("", |o| o.name.as_str());
        println!("  {:<12} / {:<22} {:<12} {org}", login.username, login.password, login.role.as_str());
    }
}
