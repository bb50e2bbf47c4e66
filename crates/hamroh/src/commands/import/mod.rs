//! `hamroh import`: survey submissions from KoBoToolbox or ODK Central, and forms in XLSForm.
//!
//! A submissions import is all or nothing as far as checking goes: every row is checked and scored
//! first; if any row has a problem, every problem is listed and nothing is stored. Otherwise the
//! file is stored in parts with the submissions it came from, so that importing it again creates
//! nothing twice (`submissions.rs`). The file is never held whole: it streams from disk (`rows.rs`).

mod rows;
mod submissions;

use std::io::Read as _;
use std::process::ExitCode;
use std::time::Instant;

use hamroh_domain::access::Principal;
use hamroh_domain::org::Role;
use hamroh_interop::submissions::{Context, Mapping};
use hamroh_interop::{sheet, xlsform};
use hamroh_store::Store;
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

/// Progress through a file of `size` bytes (a CSV file is read in order); a workbook's rows are
/// counted in the message instead.
fn rows_bar(size: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
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
            let checked_digest = file_digest(&file)?;
            let store = open(&db.db).await?;
            let principal = clinician(&store, &user).await?;
            let ctx = Context {
                organisation_id: principal.organisation_id,
                user_id: Some(principal.user_id),
                now: hamroh_store::now_millis(),
                today: hamroh_web::today(),
            };
            let job =
                submissions::Job { store: &store, principal, mapping: &mapping, cutoffs: &cutoffs, ctx, path: &file };
            let started = Instant::now();
            let tally = job.check(dry_run).await?;
            let checked = started.elapsed();
            let summary = tally.summary();
            if tally.problems > 0 {
                return Err(Failure::usage(format!("{summary}: nothing imported")));
            }
            if dry_run {
                eprintln!("hamroh: dry run, nothing stored: {summary} (checked in {checked:.1?})");
                return Ok(ExitCode::SUCCESS);
            }
            let stored = Instant::now();
            if tally.to_import > 0 {
                if file_digest(&file)? != checked_digest {
                    return Err(Failure::usage(format!(
                        "{}: the file changed while it was checked; nothing imported",
                        file.display()
                    )));
                }
                let file_detail = format!(
                    "file_sha256={checked_digest} rows={} imported={} persons={} screenings={} skipped={}",
                    tally.rows, tally.to_import, tally.persons, tally.screenings, tally.skipped
                );
                job.store(&tally, &file_detail, pause_ms).await?;
            }
            store.close().await;
            eprintln!("hamroh: imported: {summary} (checked in {checked:.1?}, stored in {:.1?})", stored.elapsed());
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

/// The SHA-256 of a file, read in blocks; files over [`sheet::MAX_BYTES`] are refused before any
/// byte is read.
fn file_digest(path: &std::path::Path) -> Result<String, Failure> {
    let cannot = |e: std::io::Error| Failure::usage(format!("cannot read {}: {e}", path.display()));
    let size = std::fs::metadata(path).map_err(cannot)?.len();
    if size > sheet::MAX_BYTES {
        return Err(Failure::usage(format!("{}: {}", path.display(), sheet::ReadError::TooLarge { bytes: size })));
    }
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut digest = Sha256::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut block).map_err(cannot)? {
            0 => return Ok(hex::encode(digest.finalize())),
            n => digest.update(&block[..n]),
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use hamroh_store::ImportedSubmission;

    use super::submissions::reissue_taken_codes;

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
