//! `hamroh import`: survey submissions from KoBoToolbox or ODK Central, and forms in XLSForm.
//!
//! A submissions import is all or nothing: every row is checked and scored first; if any row has
//! a problem, every problem is listed and nothing is stored. Otherwise the whole file is stored in
//! one transaction with the submissions it came from, so that importing it again creates nothing.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hamroh_domain::access::{Principal, person_access};
use hamroh_domain::instrument::catalog;
use hamroh_domain::model::{Batch, Person};
use hamroh_domain::org::Role;
use hamroh_interop::submissions::{self, Context, Mapping, Problem, Subject, Submission};
use hamroh_interop::{sheet, xlsform};
use hamroh_store::{Actor, ImportedSubmission, Store};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::{Failure, Outcome, load_cutoffs, open, print};
use crate::cli::ImportWhat;

fn bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} rows ({per_sec}, {elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub async fn run(what: ImportWhat) -> Outcome {
    match what {
        ImportWhat::Submissions { db, file, mapping, user, dry_run, pause_ms, cutoffs } => {
            let text = std::fs::read_to_string(&mapping)
                .map_err(|e| Failure::usage(format!("cannot read the mapping {}: {e}", mapping.display())))?;
            let mapping =
                Mapping::parse(&text).map_err(|e| Failure::usage(format!("mapping {}: {e}", mapping.display())))?;
            let cutoffs = load_cutoffs(&cutoffs)?;
            let reading = spinner(format!("reading {}", file.display()));
            let bytes = read_file(&file)?;
            let sheet = sheet::read(&bytes).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            reading.finish_and_clear();
            let store = open(&db.db).await?;
            let principal = clinician(&store, &user).await?;
            let today = hamroh_web::today();
            let ctx = Context {
                organisation_id: principal.organisation_id,
                user_id: Some(principal.user_id),
                now: hamroh_store::now_millis(),
                today,
            };
            let checking = bar(sheet.rows.len() as u64, "checking");
            let started = Instant::now();
            let plan =
                submissions::plan_with_progress(&sheet, &mapping, catalog(), &ctx, |n| checking.set_position(n as u64));
            checking.finish_and_clear();
            let mut problems = plan.problems;
            let notes = plan.notes;
            let known = store.imported_submissions(&mapping.source).await?;
            let mut skipped = 0usize;
            let mut fresh = Vec::new();
            for s in plan.submissions {
                match known.get(&s.id) {
                    Some(digest) if *digest == s.digest => skipped += 1,
                    Some(_) => {
                        skipped += 1;
                        print(&format!(
                            "row {}: submission {} was imported before and has changed at the source since; \
                             Hamroh keeps what it imported (correct the record in Hamroh)\n",
                            s.row, s.id
                        ));
                    }
                    None => fresh.push(s),
                }
            }
            let people = registered_people(&store, &principal, &fresh).await?;
            let cutoff = |instrument: &str, p: &Person| cutoffs.for_respondent(instrument, Some(p.sex));
            let mut batch = Batch::default();
            let mut imported = Vec::new();
            let mut work = Vec::with_capacity(fresh.len());
            for s in &fresh {
                match &s.subject {
                    Subject::New(record) => work.push((s, &record.person)),
                    Subject::Code(code) => match people.get(code.as_str()) {
                        Some(p) => work.push((s, p)),
                        None => problems.push(Problem {
                            row: Some(s.row),
                            column: mapping.person.code.clone(),
                            message: format!("no person with code {code} is registered where you can see it"),
                        }),
                    },
                }
            }
            let scored = submissions::score_each(&work, catalog(), &cutoff, &ctx);
            for ((s, person), result) in work.iter().zip(scored) {
                match result {
                    Ok(screenings) => {
                        if dry_run {
                            print(&describe(s, person, &screenings));
                        }
                        imported.push(ImportedSubmission {
                            submission_id: s.id.clone(),
                            digest: s.digest.clone(),
                            person_id: person.id,
                            encounter_id: screenings.first().map(|x| x.encounter_id),
                        });
                        batch.screenings.extend(screenings);
                        if let Subject::New(record) = &s.subject {
                            batch.persons.push((**record).clone());
                        }
                    }
                    Err(p) => problems.extend(p),
                }
            }
            let checked = started.elapsed();
            for note in &notes {
                print(&format!("note: {note}\n"));
            }
            problems.sort_by_key(|p| p.row);
            for p in &problems {
                print(&format!("{p}\n"));
            }
            let summary = format!(
                "{} rows: {} to import ({} new persons, {} screenings), {skipped} imported before, {} problems, {} notes",
                sheet.rows.len(),
                imported.len(),
                batch.persons.len(),
                batch.screenings.len(),
                problems.len(),
                notes.len()
            );
            if !problems.is_empty() {
                return Err(Failure::usage(format!("{summary}: nothing imported")));
            }
            if dry_run {
                eprintln!("hamroh: dry run, nothing stored: {summary} (checked in {:.1?})", checked);
                return Ok(ExitCode::SUCCESS);
            }
            let storing = bar(imported.len() as u64, "storing");
            let file_detail = format!(
                "file_sha256={} rows={} imported={} persons={} screenings={} skipped={skipped}",
                hex::encode(Sha256::digest(&bytes)),
                sheet.rows.len(),
                imported.len(),
                batch.persons.len(),
                batch.screenings.len()
            );
            let stored = Instant::now();
            if !imported.is_empty() {
                let codes: Vec<String> = batch.persons.iter().map(|r| r.person.code.clone()).collect();
                let mut taken: HashSet<String> =
                    store.persons_by_code(&codes).await?.into_iter().map(|p| p.code).collect();
                reissue_taken_codes(&mut batch, &mut imported, &mut taken);
                let parts = in_parts(batch, imported, STORE_PART);
                let count = parts.len();
                // A red flag that arrives by import tells the organisation's duty contacts at once,
                // as one raised in the clinic does.
                let contacts = store.contacts(Some(principal.organisation_id), None).await?;
                for (n, (part, submissions)) in parts.into_iter().enumerate() {
                    let detail = format!("{file_detail} part={}/{count} submissions={}", n + 1, submissions.len());
                    let actor = Actor::user(principal.user_id, None);
                    let messages = flag_alerts(&store, &part, &contacts).await?;
                    if let Err(e) =
                        store.insert_imported(&actor, &part, &mapping.source, &submissions, detail, &messages).await
                    {
                        storing.abandon();
                        eprintln!(
                            "hamroh: {} of {count} parts stored ({} submissions); run the same import again \
                             to store the rest (what is stored is skipped)",
                            n,
                            storing.position()
                        );
                        return Err(e.into());
                    }
                    storing.inc(submissions.len() as u64);
                    if n + 1 < count && pause_ms > 0 {
                        // Writers that found the lock taken sleep and try again (SQLite's busy
                        // handler backs off up to 100 ms): without a pause the next part would
                        // take the lock first, every time, until the import ends.
                        tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
                    }
                }
            }
            store.close().await;
            storing.finish_and_clear();
            eprintln!("hamroh: imported: {summary} (checked in {:.1?}, stored in {:.1?})", checked, stored.elapsed());
            Ok(ExitCode::SUCCESS)
        }
        ImportWhat::Xlsform { file, output, force } => {
            let bytes = read_file(&file)?;
            let form = xlsform::convert(&bytes).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            for note in &form.notes {
                eprintln!("hamroh: {note}");
            }
            match output {
                Some(path) => {
                    if path.exists() && !force {
                        return Err(Failure::usage(format!("{} exists; add --force to replace it", path.display())));
                    }
                    std::fs::write(&path, &form.toml)
                        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", path.display())))?;
                    eprintln!("hamroh: wrote instrument `{}` to {}", form.id, path.display());
                }
                None => print(&form.toml),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    let size =
        std::fs::metadata(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?.len();
    if size > sheet::MAX_BYTES {
        return Err(Failure::usage(format!("{}: {}", path.display(), sheet::ReadError::TooLarge { bytes: size })));
    }
    std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

/// The importing user as a principal; only clinicians record screenings.
async fn clinician(store: &Store, username: &str) -> Result<Principal, Failure> {
    let user = store
        .user_by_username(username)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| Failure::usage(format!("no active user `{username}`")))?;
    if !user.roles.contains(&Role::Clinician) {
        return Err(Failure::usage(format!("`{username}` is not a clinician: only clinicians record screenings")));
    }
    let sector = store
        .organisations()
        .await?
        .into_iter()
        .find(|o| o.id == user.organisation_id)
        .map(|o| o.sector)
        .ok_or_else(|| Failure::usage("the user's organisation is missing"))?;
    Ok(Principal { user_id: user.id, organisation_id: user.organisation_id, sector, roles: user.roles, token: None })
}

/// Gives every new person whose code is in `taken` (registered already, or drawn by an earlier row
/// of the file) a fresh id, with their screenings and import records: a person code is 40 bits of
/// the id, and in a national registry an import of thousands draws a taken one now and then.
/// Returns how many were given a fresh id.
/// Submissions stored per transaction. A transaction holds the database's write lock: a server
/// answering clinics meanwhile waits for each part (under a second), where one transaction for a
/// whole export held it for minutes and its writes failed when their wait ran out.
const STORE_PART: usize = 1_000;

/// Splits checked submissions and their records into parts of `size` submissions, each with its
/// new persons and its encounter's screenings, in file order.
fn in_parts(batch: Batch, imported: Vec<ImportedSubmission>, size: usize) -> Vec<(Batch, Vec<ImportedSubmission>)> {
    let mut part_of_person = HashMap::new();
    let mut part_of_encounter = HashMap::new();
    for (i, s) in imported.iter().enumerate() {
        part_of_person.entry(s.person_id).or_insert(i / size);
        if let Some(e) = s.encounter_id {
            part_of_encounter.insert(e, i / size);
        }
    }
    let count = imported.len().div_ceil(size);
    let mut parts: Vec<(Batch, Vec<ImportedSubmission>)> = (0..count).map(|_| Default::default()).collect();
    let last = count.saturating_sub(1);
    for record in batch.persons {
        let part = part_of_person.get(&record.person.id).copied().unwrap_or(0);
        parts[part].0.persons.push(record);
    }
    for screening in batch.screenings {
        let part = part_of_encounter.get(&screening.encounter_id).copied().unwrap_or(last);
        // A submission was not a visit here: its red flags ask to contact the person today.
        if !parts[part].0.remote_encounters.contains(&screening.encounter_id) {
            parts[part].0.remote_encounters.push(screening.encounter_id);
        }
        parts[part].0.screenings.push(screening);
    }
    for (i, s) in imported.into_iter().enumerate() {
        parts[i / size].1.push(s);
    }
    parts
}

/// One alert per person and red flag of a part, with the person's code only.
async fn flag_alerts(
    store: &Store,
    part: &Batch,
    contacts: &[hamroh_store::Contact],
) -> Result<Vec<hamroh_store::OutboxMessage>, Failure> {
    use hamroh_store::Notifier;
    let mut raised: Vec<(uuid::Uuid, &str)> =
        part.screenings.iter().flat_map(|s| s.outcome.flags.iter().map(move |f| (s.person_id, f.as_str()))).collect();
    raised.sort_unstable();
    raised.dedup();
    if raised.is_empty() || contacts.is_empty() {
        return Ok(Vec::new());
    }
    // New persons of the part are not stored yet: their codes come from the part itself.
    let mut codes: HashMap<uuid::Uuid, String> =
        part.persons.iter().map(|p| (p.person.id, p.person.code.clone())).collect();
    codes.extend(
        store.person_codes(raised.iter().map(|r| r.0).filter(|id| !codes.contains_key(id)).collect::<Vec<_>>()).await?,
    );
    let notifier = hamroh_web::notify::FluentNotifier;
    Ok(raised
        .into_iter()
        .flat_map(|(person, flag)| {
            let alert = hamroh_store::Alert {
                kind: hamroh_store::AlertKind::Raised,
                person_code: codes.get(&person).cloned().unwrap_or_default(),
                flag: flag.to_owned(),
            };
            notifier.alert(&alert, contacts)
        })
        .collect())
}

fn reissue_taken_codes(batch: &mut Batch, imported: &mut [ImportedSubmission], taken: &mut HashSet<String>) -> usize {
    let mut moved = HashMap::new();
    for record in &mut batch.persons {
        let drawn = record.person.id;
        while !taken.insert(record.person.code.clone()) {
            hamroh_domain::registration::reissue(record, uuid::Uuid::now_v7());
        }
        if record.person.id != drawn {
            moved.insert(drawn, record.person.id);
        }
    }
    for s in &mut batch.screenings {
        s.person_id = moved.get(&s.person_id).copied().unwrap_or(s.person_id);
    }
    for i in imported.iter_mut() {
        i.person_id = moved.get(&i.person_id).copied().unwrap_or(i.person_id);
    }
    moved.len()
}

/// The registered people that rows name by code, if the importing user may write to their record.
async fn registered_people(
    store: &Store,
    principal: &Principal,
    submissions: &[Submission],
) -> Result<HashMap<String, Person>, Failure> {
    let codes: HashSet<&str> = submissions
        .iter()
        .filter_map(|s| match &s.subject {
            Subject::Code(c) => Some(c.as_str()),
            Subject::New(_) => None,
        })
        .collect();
    let codes: Vec<String> = codes.into_iter().map(str::to_owned).collect();
    let mut out = HashMap::new();
    for person in store.persons_by_code(&codes).await? {
        let Some(facts) = store.person_facts(person.id).await? else { continue };
        if person_access(principal, &facts, true).allowed() {
            out.insert(person.code.clone(), person);
        }
    }
    Ok(out)
}

/// One line of the dry-run report: what the row would create (codes and scores, no names).
fn describe(s: &Submission, person: &Person, screenings: &[hamroh_domain::model::Screening]) -> String {
    let who = match &s.subject {
        Subject::New(_) => format!("new person {}", person.code),
        Subject::Code(_) => format!("person {}", person.code),
    };
    let scores: Vec<String> = screenings
        .iter()
        .map(|x| {
            let mut text = format!("{} total {}", x.instrument, x.outcome.total.map_or("-".into(), |t| t.to_string()));
            if x.outcome.positive == Some(true) {
                text.push_str(" positive");
            }
            for flag in &x.outcome.flags {
                text.push_str(&format!(" RED FLAG {flag}"));
            }
            text
        })
        .collect();
    format!(
        "row {} ({}): {who}; {}\n",
        s.row,
        s.id,
        if scores.is_empty() { "no screening".into() } else { scores.join("; ") }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_persons_drawing_a_taken_code_get_fresh_ids_with_their_screenings() {
        let dir = hamroh_demo::directory();
        let config = hamroh_demo::DemoConfig { people: 30, seed: 3, as_of: jiff::civil::date(2026, 11, 1) };
        let mut batch = hamroh_demo::DemoPeople::new(config, &dir).next_chunk(30).unwrap();
        batch.persons.truncate(3);
        let ids: Vec<uuid::Uuid> = batch.persons.iter().map(|r| r.person.id).collect();
        batch.screenings.retain(|s| ids.contains(&s.person_id));
        let registered = "HM-TAKE-N000".to_owned();
        batch.persons[1].person.code = batch.persons[0].person.code.clone();
        batch.persons[2].person.code = registered.clone();
        let mut imported: Vec<ImportedSubmission> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| ImportedSubmission {
                submission_id: n.to_string(),
                digest: String::new(),
                person_id: *id,
                encounter_id: None,
            })
            .collect();
        let screened: Vec<usize> =
            ids.iter().map(|id| batch.screenings.iter().filter(|s| s.person_id == *id).count()).collect();
        assert!(screened.iter().all(|&n| n > 0), "every demo person was screened");
        let mut taken = HashSet::from([registered.clone()]);
        assert_eq!(reissue_taken_codes(&mut batch, &mut imported, &mut taken), 2);

        let now: Vec<uuid::Uuid> = batch.persons.iter().map(|r| r.person.id).collect();
        assert_eq!(now[0], ids[0], "the first to draw a code keeps it");
        assert!(now[1] != ids[1] && now[2] != ids[2]);
        let codes: HashSet<&str> = batch.persons.iter().map(|r| r.person.code.as_str()).collect();
        assert_eq!(codes.len(), 3);
        assert!(!codes.contains(registered.as_str()));
        for (n, record) in batch.persons.iter().enumerate() {
            let id = record.person.id;
            assert_eq!(imported[n].person_id, id);
            assert_eq!(batch.screenings.iter().filter(|s| s.person_id == id).count(), screened[n]);
            assert!(record.episodes.iter().all(|e| e.person_id == id));
        }
    }
}
