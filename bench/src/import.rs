//! Importing survey submissions: rows per second read (CSV parse, one thread), checked
//! (registration fields, answer cells) and scored (both on every core, as `hamroh import` does); then the store-bound rate of the one-transaction write.

use std::time::Instant;

use hamroh_domain::instrument::catalog;
use hamroh_domain::model::{Batch, Organisation};
use hamroh_domain::org::Sector;
use hamroh_interop::sheet;
use hamroh_interop::submissions::{self, Context, Mapping, Subject};
use hamroh_store::{Actor, ImportedSubmission, Store};

#[derive(clap::Args)]
pub struct Args {
    /// Rows in the generated KoBoToolbox export
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Rows written to the store (a prefix of the file)
    #[arg(long, default_value_t = 20_000)]
    stored: usize,
    /// Also store into a fresh database on this PostgreSQL server (admin URL)
    #[arg(long)]
    postgres: Option<String>,
    /// Only write the generated export (and its mapping, beside it as `.toml`) to this file, for
    /// measuring `hamroh import submissions` on it
    #[arg(long)]
    write: Option<std::path::PathBuf>,
}

const MAPPING: &str = r#"
source = "kobo:bench"
submission_id = "_uuid"
encounter_at = "_submission_time"
[person]
given_name = "respondent/given_name"
sex = "respondent/sex"
birth_year = "respondent/birth_year"
district = "respondent/district"
consent_care = "consent/care"
[person.episode]
destination_country = "migration/country"
year_from = "migration/year_from"
work_sector = "migration/sector"
[[screening]]
instrument = "phq9"
prefix = "phq9/phq9_"
[[screening]]
instrument = "gad7"
prefix = "gad7/gad7_"
"#;

/// A KoBoToolbox-style export (semicolons, group paths) with valid rows.
fn export(rows: usize) -> String {
    let mut out = String::from(
        "start;end;_uuid;_submission_time;respondent/given_name;respondent/sex;respondent/birth_year;\
         respondent/district;consent/care;migration/country;migration/year_from;migration/sector",
    );
    for n in 1..=9 {
        out.push_str(&format!(";phq9/phq9_{n}"));
    }
    for n in 1..=7 {
        out.push_str(&format!(";gad7/gad7_{n}"));
    }
    out.push('\n');
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    for r in 0..rows {
        let sex = if next(2) == 0 { "male" } else { "female" };
        out.push_str(&format!(
            "2026-09-01T08:00:00;2026-09-01T08:20:00;b{r:08x}-7f1c-4c1e-9a55-0d9e2b1c;2026-09-01T08:21:00;Name{r};{sex};{};\
             TJ-KT.kulob;yes;RU;{};construction",
            1960 + next(45),
            2010 + next(15)
        ));
        for _ in 0..16 {
            out.push_str(&format!(";{}", next(4)));
        }
        out.push('\n');
    }
    out
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let text = export(args.rows);
    if let Some(path) = &args.write {
        std::fs::write(path, &text)?;
        std::fs::write(path.with_extension("toml"), MAPPING)?;
        println!("wrote {} rows ({} bytes) to {}", args.rows, text.len(), path.display());
        return Ok(());
    }
    let mapping = Mapping::parse(MAPPING).map_err(anyhow::Error::msg)?;
    let organisation = Organisation {
        id: uuid::Uuid::now_v7(),
        name: "Bench clinic".into(),
        sector: Sector::PrimaryCare,
        district: None,
        uses_hamroh: true,
        name_lang: hamroh_domain::org::Lang::En,
        translations: Default::default(),
    };
    let now = jiff::Timestamp::now();
    let ctx = Context {
        organisation_id: organisation.id,
        user_id: None,
        now: now.as_millisecond(),
        today: now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).date(),
    };

    let start = Instant::now();
    let sheet = sheet::read(text.as_bytes()).map_err(anyhow::Error::from)?;
    let read = start.elapsed().as_secs_f64();
    let plan = submissions::plan(&sheet, &mapping, catalog(), &ctx);
    anyhow::ensure!(plan.problems.is_empty(), "generated rows have problems: {:?}", &plan.problems[..1]);
    let checked = start.elapsed().as_secs_f64();
    let work: Vec<_> = plan
        .submissions
        .iter()
        .map(|s| match &s.subject {
            Subject::New(record) => (s, &record.person),
            Subject::Code(_) => unreachable!("every row registers"),
        })
        .collect();
    let results = submissions::score_each(&work, catalog(), &|_, _| None, &ctx);
    let mut batch = Batch::default();
    let mut imported = Vec::new();
    for ((s, person), result) in work.iter().zip(results) {
        let screenings = result.map_err(|p| anyhow::anyhow!("{}", p[0]))?;
        if imported.len() < args.stored {
            imported.push(ImportedSubmission {
                submission_id: s.id.clone(),
                digest: s.digest.clone(),
                person_id: person.id,
                encounter_id: screenings.first().map(|x| x.encounter_id),
            });
            if let Subject::New(record) = &s.subject {
                batch.persons.push((**record).clone());
            }
            batch.screenings.extend(screenings);
        }
    }
    let scored = start.elapsed().as_secs_f64();
    let mb = text.len() as f64 / 1e6;
    println!("File: {} rows, {mb:.0} MB, 28 columns (registration, episode, PHQ-9, GAD-7).\n", args.rows);
    println!("| step | seconds (cumulative) | rows/s |");
    println!("| --- | ---: | ---: |");
    let rate = |s: f64| args.rows as f64 / s;
    println!("| read (CSV parse) | {read:.2} | {:.0} |", rate(read));
    println!("| read + check (registration, cells) | {checked:.2} | {:.0} |", rate(checked));
    println!("| read + check + score | {scored:.2} | {:.0} |", rate(scored));

    let dir = tempfile::tempdir()?;
    let targets = crate::targets::fresh(dir.path(), args.postgres.as_deref()).await?;
    println!("\n| backend | rows stored in one transaction | seconds | rows/s |");
    println!("| --- | ---: | ---: | ---: |");
    let orgs = Batch { organisations: vec![organisation.clone()], ..Batch::default() };
    for target in targets {
        let (label, url) = (target.label, &target.url);
        let store = Store::open(url).await?;
        store.insert_batch(&Actor::system("bench"), &orgs).await?;
        let start = Instant::now();
        store.insert_imported(&Actor::system("bench"), &batch, "kobo:bench", &imported, "bench".into(), &[]).await?;
        let seconds = start.elapsed().as_secs_f64();
        println!("| {label} | {} | {seconds:.2} | {:.0} |", imported.len(), imported.len() as f64 / seconds);
        store.close().await;
        target.finish().await?;
    }
    Ok(())
}
