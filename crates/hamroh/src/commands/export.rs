//! `hamroh export`: indicators (CSV, XLSX, JSON, DHIS2), FHIR (a Bundle or Bulk Data NDJSON, written
//! as read) and the de-identified research file.

use std::process::ExitCode;
use std::time::Duration;

use hamroh_analytics::export;
use hamroh_store::{Actor, Store};
use indicatif::{ProgressBar, ProgressStyle};

use super::{Failure, Outcome, open, print};
use crate::cli::{ExportFormat, ExportWhat, FhirFormat};

fn spinner(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn write(output: Option<&std::path::Path>, bytes: &[u8]) -> Result<(), Failure> {
    match output {
        Some(path) => {
            std::fs::write(path, bytes).map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))
        }
        None => {
            print(&String::from_utf8_lossy(bytes));
            Ok(())
        }
    }
}

/// Persons read from the store at a time: the export holds this many records in memory, whatever
/// its size.
const EXPORT_CHUNK: usize = 500;

fn counting(total: usize) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} persons ({eta} left)").expect("valid template"));
    bar
}

fn write_failed(e: std::io::Error) -> Failure {
    Failure { code: 1, message: format!("cannot write the export: {e}") }
}

/// Hands each person's pseudonymous FHIR entries to `write`, reading `EXPORT_CHUNK` persons at a
/// time with a progress bar; the number of persons.
async fn each_person(
    store: &Store,
    ids: &[uuid::Uuid],
    mut write: impl FnMut(Vec<serde_json::Value>) -> Result<(), Failure>,
) -> Result<usize, Failure> {
    let bar = counting(ids.len());
    let mut n = 0;
    for chunk in ids.chunks(EXPORT_CHUNK) {
        for (person, screenings, referrals) in store.export_records(&Actor::system("cli"), chunk).await? {
            write(hamroh_interop::fhir::person_entries(
                &person,
                hamroh_interop::fhir::Identity::Pseudonymous,
                &screenings,
                &referrals,
                hamroh_domain::instrument::catalog(),
            ))?;
            n += 1;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(n)
}

/// Every record of `ids` as one pseudonymous Bundle, written as it is read.
async fn fhir_bundle(store: &Store, ids: &[uuid::Uuid], output: Option<&std::path::Path>) -> Result<usize, Failure> {
    let out: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(
            std::fs::File::create(path).map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let now = hamroh_store::now_millis();
    let mut w = hamroh_interop::fhir::BundleWriter::new(std::io::BufWriter::new(out), now).map_err(write_failed)?;
    let n = each_person(store, ids, |entries| entries.iter().try_for_each(|e| w.push(e)).map_err(write_failed)).await?;
    w.finish().map_err(write_failed)?;
    Ok(n)
}

/// Every record of `ids` as FHIR Bulk Data: one NDJSON file per resource type in `dir`.
async fn fhir_ndjson(store: &Store, ids: &[uuid::Uuid], dir: &std::path::Path) -> Result<usize, Failure> {
    use std::collections::btree_map::Entry;
    use std::io::Write as _;
    std::fs::create_dir_all(dir).map_err(|e| Failure::usage(format!("cannot create {}: {e}", dir.display())))?;
    let mut files: std::collections::BTreeMap<String, (std::io::BufWriter<std::fs::File>, u64)> = Default::default();
    let n = each_person(store, ids, |entries| {
        for (kind, resource) in hamroh_interop::fhir::bulk_resources(entries) {
            let (file, count) = match files.entry(kind) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let path = dir.join(format!("{}.ndjson", e.key()));
                    let file = std::fs::File::create(&path)
                        .map_err(|err| Failure::usage(format!("cannot write {}: {err}", path.display())))?;
                    e.insert((std::io::BufWriter::new(file), 0))
                }
            };
            serde_json::to_writer(&mut *file, &resource).map_err(|e| write_failed(e.into()))?;
            file.write_all(b"\n").map_err(write_failed)?;
            *count += 1;
        }
        Ok(())
    })
    .await?;
    for (kind, (mut file, count)) in files {
        file.flush().map_err(write_failed)?;
        eprintln!("hamroh: {count} {kind} resource(s) in {}", dir.join(format!("{kind}.ndjson")).display());
    }
    Ok(n)
}

pub async fn run(what: ExportWhat) -> Outcome {
    match what {
        ExportWhat::Indicators {
            db,
            indicators,
            from,
            to,
            period,
            by,
            format,
            dhis2_mapping,
            k,
            lost_after_days,
            lang,
            output,
        } => {
            if k < 2 {
                return Err(Failure::usage("--k must be at least 2"));
            }
            if matches!(format, ExportFormat::Xlsx) && output.is_none() {
                return Err(Failure::usage("an XLSX export needs --output FILE"));
            }
            let mapping = match (&format, dhis2_mapping) {
                (ExportFormat::Dhis2, Some(path)) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
                    let name = path.display();
                    let mapping = export::Dhis2Mapping::parse(&text)
                        .map_err(|p| Failure::usage(format!("DHIS2 mapping {name}:\n  {}", p.join("\n  "))))?;
                    // DHIS2 disaggregates by category option combos, which Hamroh's breakdowns other
                    // than place do not map to: refuse rather than send an empty payload.
                    if !matches!(by.as_str(), "" | "none" | "region" | "district") {
                        return Err(Failure::usage(format!(
                            "--format dhis2 sends totals, or breakdowns by region or district (organisation \
                             units); a breakdown by {by} has no category option combos in the mapping"
                        )));
                    }
                    Some(mapping)
                }
                (ExportFormat::Dhis2, None) => return Err(Failure::usage("--format dhis2 needs --dhis2-mapping FILE")),
                _ => None,
            };
            let mut query: Vec<(String, String)> = indicators.into_iter().map(|i| ("indicator".into(), i)).collect();
            query.extend([("period".into(), period), ("by".into(), by)]);
            query.extend(from.map(|f| ("from".into(), f)));
            query.extend(to.map(|t| ("to".into(), t)));
            let request = hamroh_web::evidence::parse_pairs(
                &query,
                hamroh_web::evidence::Disclosure {
                    k,
                    min_share_group: hamroh_analytics::DEFAULT_MIN_SHARE_GROUP.max(k),
                    release_every_minutes: 0,
                },
            )
            .map_err(|e| Failure::usage(e.to_string()))?;
            let store = open(&db.db).await?;
            let bar = spinner("computing indicators");
            let lost_cutoff = hamroh_store::now_millis() - lost_after_days.max(1) * 86_400_000;
            let to = hamroh_analytics::Recipient {
                user_id: None,
                organisation_id: None,
                channel: format!("export {format:?}").to_lowercase(),
            };
            let tables =
                hamroh_analytics::tables(&store, &request.indicators, &request.query, lost_cutoff, &to).await?;
            bar.finish_and_clear();
            let lang: hamroh_domain::org::Lang = lang.into();
            let labeller = |t: &hamroh_analytics::Table, code: &str| hamroh_web::evidence::label_in(lang, t, code);
            let bytes = match format {
                ExportFormat::Csv => {
                    export::csv(&tables, &labeller).map_err(|e| Failure { code: 1, message: e.to_string() })?
                }
                ExportFormat::Xlsx => {
                    export::xlsx(&tables, &labeller).map_err(|e| Failure { code: 1, message: e.to_string() })?
                }
                ExportFormat::Json => {
                    serde_json::to_vec_pretty(&tables).map_err(|e| Failure { code: 1, message: e.to_string() })?
                }
                ExportFormat::Dhis2 => {
                    let payload = export::dhis2(&tables, &mapping.unwrap_or_default());
                    serde_json::to_vec_pretty(&payload).map_err(|e| Failure { code: 1, message: e.to_string() })?
                }
            };
            write(output.as_deref(), &bytes)?;
            if let Some(path) = output {
                eprintln!("hamroh: {} indicator table(s) written to {}", tables.len(), path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        ExportWhat::Fhir { db, since, format, output } => {
            let since_ms = match since {
                Some(day) => {
                    let date: jiff::civil::Date =
                        day.parse().map_err(|_| Failure::usage(format!("--since {day}: expected YYYY-MM-DD")))?;
                    let zone = jiff::tz::TimeZone::fixed(jiff::tz::offset(5));
                    date.to_zoned(zone).map_err(|e| Failure::usage(e.to_string()))?.timestamp().as_millisecond()
                }
                None => i64::MIN,
            };
            let store = open(&db.db).await?;
            let ids = store.persons_changed_since(since_ms).await?;
            let n = match format {
                FhirFormat::Bundle => fhir_bundle(&store, &ids, output.as_deref()).await?,
                FhirFormat::Ndjson => {
                    let dir = output.ok_or_else(|| {
                        Failure::usage("--format ndjson writes one file per resource type: name a directory with -o")
                    })?;
                    fhir_ndjson(&store, &ids, &dir).await?
                }
            };
            eprintln!("hamroh: {n} person record(s) exported");
            Ok(ExitCode::SUCCESS)
        }
        ExportWhat::Questionnaires { output } => {
            std::fs::create_dir_all(&output)
                .map_err(|e| Failure::usage(format!("cannot create {}: {e}", output.display())))?;
            let mut n = 0;
            for inst in hamroh_domain::instrument::catalog().iter() {
                let q = hamroh_interop::fhir::questionnaire(inst);
                let text = serde_json::to_string_pretty(&q).map_err(|e| Failure { code: 1, message: e.to_string() })?;
                write(Some(&output.join(format!("Questionnaire-{}.json", inst.id))), text.as_bytes())?;
                n += 1;
            }
            eprintln!("hamroh: {n} FHIR Questionnaire(s) written to {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        ExportWhat::Microdata { db, k, output, codebook } => {
            if k < 2 {
                return Err(Failure::usage("--k must be at least 2"));
            }
            let store = open(&db.db).await?;
            let bar = spinner("reading persons who consented to research");
            let records = store.research_records(&Actor::system("cli")).await?;
            bar.set_message("generalising");
            let year = i64::from(jiff::Zoned::now().year());
            let file = hamroh_analytics::microdata::research_file(&records, k, year);
            bar.finish_and_clear();
            let csv = file.csv().map_err(|e| Failure { code: 1, message: e.to_string() })?;
            write(Some(&output), &csv)?;
            let codebook = codebook.unwrap_or_else(|| output.with_extension("codebook.md"));
            write(Some(&codebook), file.codebook().as_bytes())?;
            eprintln!(
                "hamroh: {} line(s) written to {} ({} left out to reach k = {}, {} sensitive value(s) withheld \
                 where a class shared one); codebook in {}",
                file.lines.len(),
                output.display(),
                file.dropped,
                file.k,
                file.withheld,
                codebook.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
