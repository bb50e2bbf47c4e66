//! `hamroh import submissions`: a KoBoToolbox or ODK Central export, read as it streams from the
//! file, twice. The first pass checks and scores every row and stores nothing; only a file
//! without a problem is read again and stored, in parts of 1,000 submissions, each a transaction
//! that also records its submission ids, so that a re-import skips what is stored and a failure
//! leaves whole parts. Between rows only what spans them is kept (a hash of each submission id and
//! of each new person's identity), so memory does not grow with the file.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use hamroh_domain::access::{Principal, person_access};
use hamroh_domain::instrument::{Cutoffs, catalog};
use hamroh_domain::model::{Batch, Person, Screening};
use hamroh_interop::sheet::Row;
use hamroh_interop::submissions::{self, AcrossRows, Checker, Context, Mapping, Problem, Subject, Submission};
use hamroh_store::{Actor, ImportedSubmission, Store};
use indicatif::ProgressBar;

use super::rows::Rows;
use super::{bar, rows_bar};
use crate::commands::{Failure, print};

/// Rows checked at a time in the first pass (on every core).
const CHECK_CHUNK: usize = 4_096;

/// Submissions stored per transaction. A transaction holds the database's write lock: a server
/// answering clinics meanwhile waits for each part (under a second), where one transaction for a
/// whole export held it for minutes and its writes failed when their wait ran out.
pub const STORE_PART: usize = 1_000;

/// What an import reads with and for.
pub struct Job<'a> {
    pub store: &'a Store,
    pub principal: Principal,
    pub mapping: &'a Mapping,
    pub cutoffs: &'a Cutoffs,
    pub ctx: Context,
    pub path: &'a Path,
}

/// A checked row, the person it is about and its scored screenings.
struct Ready {
    submission: Submission,
    person: Person,
    screenings: Vec<Screening>,
}

/// What a chunk of rows holds once checked, its persons found and its answers scored.
#[derive(Default)]
struct Scored {
    ready: Vec<Ready>,
    problems: Vec<Problem>,
    notes: Vec<Problem>,
    skipped: usize,
    /// (row, submission id) of submissions imported before that have changed at the source.
    changed: Vec<(usize, String)>,
}

/// The first pass's counts.
#[derive(Debug, Default)]
pub struct Tally {
    pub rows: usize,
    pub to_import: usize,
    pub persons: usize,
    pub screenings: usize,
    pub skipped: usize,
    pub problems: usize,
    pub notes: usize,
}

impl Tally {
    pub fn summary(&self) -> String {
        format!(
            "{} rows: {} to import ({} new persons, {} screenings), {} imported before, {} problems, {} notes",
            self.rows, self.to_import, self.persons, self.screenings, self.skipped, self.problems, self.notes
        )
    }
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::usage(format!("{}: {e}", path.display()))
}

impl Job<'_> {
    /// The first pass: every row checked and scored, every problem and note printed (and, in a dry
    /// run, what each row would create). Nothing is stored.
    pub async fn check(&self, dry_run: bool) -> Result<Tally, Failure> {
        let mut rows = Rows::open(self.path.to_owned(), CHECK_CHUNK);
        let header = rows.header().await.map_err(|e| unreadable(self.path, e))?;
        let mut tally = Tally::default();
        let checker = match Checker::new(self.mapping, &header, catalog()) {
            Ok(c) => c,
            Err(problems) => {
                for p in &problems {
                    print(&format!("{p}\n"));
                }
                tally.problems = problems.len();
                return Ok(tally);
            }
        };
        let size = std::fs::metadata(self.path).map(|m| m.len()).unwrap_or(0);
        let progress = rows_bar(size, "checking");
        let mut across = AcrossRows::default();
        while let Some(chunk) = rows.next().await.map_err(|e| {
            progress.abandon();
            unreadable(self.path, e)
        })? {
            tally.rows += chunk.rows.len();
            if chunk.read > 0 {
                progress.set_position(chunk.read);
            } else {
                progress.set_message(format!("checking: {} rows", tally.rows));
            }
            let scored = self.score(&checker, &mut across, chunk.rows).await?;
            progress.suspend(|| report(&scored, dry_run));
            tally.problems += scored.problems.len();
            tally.notes += scored.notes.len();
            tally.skipped += scored.skipped + scored.changed.len();
            tally.to_import += scored.ready.len();
            for r in &scored.ready {
                tally.screenings += r.screenings.len();
                tally.persons += usize::from(matches!(r.submission.subject, Subject::New(_)));
            }
        }
        progress.finish_and_clear();
        Ok(tally)
    }

    /// The second pass: the file read again and stored in parts of [`STORE_PART`] submissions.
    /// The file was checked whole; a row that now has a problem means that the file or the
    /// records it names changed since, and the import stops there, with what it stored kept.
    pub async fn store(&self, tally: &Tally, file_detail: &str, pause_ms: u64) -> Result<(), Failure> {
        let mut rows = Rows::open(self.path.to_owned(), STORE_PART);
        let header = rows.header().await.map_err(|e| unreadable(self.path, e))?;
        let checker = Checker::new(self.mapping, &header, catalog())
            .map_err(|_| unreadable(self.path, "the file changed since it was checked"))?;
        let mut parts = Parts {
            count: tally.to_import.div_ceil(STORE_PART),
            stored: 0,
            file_detail,
            contacts: self.store.contacts(Some(self.principal.organisation_id), None).await?,
            progress: bar(tally.to_import as u64, "storing"),
            pause_ms,
        };
        let mut across = AcrossRows::default();
        let mut pending: Vec<Ready> = Vec::new();
        loop {
            let chunk = match rows.next().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Err(parts.stopped(unreadable(self.path, e))),
            };
            let scored = self.score(&checker, &mut across, chunk.rows).await.map_err(|e| parts.stopped(e))?;
            if let Some(p) = scored.problems.first() {
                return Err(parts.stopped(Failure::usage(format!("{}: {p}", changed(self.path)))));
            }
            pending.extend(scored.ready);
            while pending.len() >= STORE_PART {
                let part: Vec<Ready> = pending.drain(..STORE_PART).collect();
                self.store_next(&mut parts, part).await?;
            }
        }
        if !pending.is_empty() {
            self.store_next(&mut parts, pending).await?;
        }
        if parts.stored != parts.count {
            return Err(parts.stopped(Failure::usage(changed(self.path))));
        }
        parts.progress.finish_and_clear();
        Ok(())
    }

    /// Stores the next part, then pauses to let other writers in.
    async fn store_next(&self, parts: &mut Parts<'_>, part: Vec<Ready>) -> Result<(), Failure> {
        if parts.stored == parts.count {
            return Err(parts.stopped(Failure::usage(changed(self.path))));
        }
        let n = part.len();
        let detail = format!("{} part={}/{} submissions={n}", parts.file_detail, parts.stored + 1, parts.count);
        if let Err(e) = self.store_part(part, detail, &parts.contacts).await {
            return Err(parts.stopped(e.into()));
        }
        parts.stored += 1;
        parts.progress.inc(n as u64);
        if parts.stored < parts.count && parts.pause_ms > 0 {
            // Writers that found the lock taken sleep and try again (SQLite's busy handler backs
            // off up to 100 ms): without a pause the next part would take the lock first, every
            // time, until the import ends.
            tokio::time::sleep(std::time::Duration::from_millis(parts.pause_ms)).await;
        }
        Ok(())
    }

    /// Checks a chunk of rows, skips what was imported before, finds the registered persons the
    /// rows name and scores their answers.
    async fn score(&self, checker: &Checker<'_>, across: &mut AcrossRows, rows: Vec<Row>) -> Result<Scored, Failure> {
        let mut out = Scored::default();
        let checked = checker.check(&rows, &self.ctx);
        let mut passed = Vec::with_capacity(rows.len());
        for (row, result) in rows.iter().zip(checked) {
            passed.extend(across.take(checker, row, result, &mut out.problems, &mut out.notes));
        }
        drop(rows);
        let ids: Vec<String> = passed.iter().map(|s| s.id.clone()).collect();
        let known = self.store.imported_digests(&self.mapping.source, &ids).await?;
        let mut fresh = Vec::with_capacity(passed.len());
        for s in passed {
            match known.get(&s.id) {
                Some(digest) if *digest == s.digest => out.skipped += 1,
                Some(_) => out.changed.push((s.row, s.id)),
                None => fresh.push(s),
            }
        }
        let people = registered_people(self.store, &self.principal, &fresh).await?;
        let mut work: Vec<(Submission, Person)> = Vec::with_capacity(fresh.len());
        for s in fresh {
            let person = match &s.subject {
                Subject::New(record) => record.person.clone(),
                Subject::Code(code) => match people.get(code.as_str()) {
                    Some(p) => p.clone(),
                    None => {
                        out.problems.push(Problem {
                            row: Some(s.row),
                            column: self.mapping.person.code.clone(),
                            message: format!("no person with code {code} is registered where you can see it"),
                        });
                        continue;
                    }
                },
            };
            work.push((s, person));
        }
        let cutoff = |instrument: &str, p: &Person| self.cutoffs.for_respondent(instrument, Some(p.sex));
        let refs: Vec<(&Submission, &Person)> = work.iter().map(|(s, p)| (s, p)).collect();
        let scored = submissions::score_each(&refs, catalog(), &cutoff, &self.ctx);
        for ((submission, person), result) in work.into_iter().zip(scored) {
            match result {
                Ok(screenings) => out.ready.push(Ready { submission, person, screenings }),
                Err(p) => out.problems.extend(p),
            }
        }
        out.problems.sort_by_key(|p| p.row);
        Ok(out)
    }

    /// Stores one part in one transaction, with its submission ids and its red flags' alerts.
    async fn store_part(
        &self,
        part: Vec<Ready>,
        detail: String,
        contacts: &[hamroh_store::Contact],
    ) -> Result<(), hamroh_store::StoreError> {
        let mut batch = Batch::default();
        let mut imported = Vec::with_capacity(part.len());
        for r in part {
            let encounter_id = r.screenings.first().map(|x| x.encounter_id);
            imported.push(ImportedSubmission {
                submission_id: r.submission.id,
                digest: r.submission.digest,
                person_id: r.person.id,
                encounter_id,
            });
            // A submission was not a visit here: its red flags ask to contact the person today.
            batch.remote_encounters.extend(encounter_id);
            batch.screenings.extend(r.screenings);
            if let Subject::New(record) = r.submission.subject {
                batch.persons.push(*record);
            }
        }
        let codes: Vec<String> = batch.persons.iter().map(|r| r.person.code.clone()).collect();
        let mut taken: HashSet<String> = self.store.codes_taken(&codes).await?;
        reissue_taken_codes(&mut batch, &mut imported, &mut taken);
        let messages = flag_alerts(self.store, &batch, contacts).await?;
        let actor = Actor::user(self.principal.user_id, None);
        self.store.insert_imported(&actor, &batch, &self.mapping.source, &imported, detail, &messages).await
    }
}

/// Prints a chunk's notes and problems (and in a dry run what each row would create), in row order.
fn report(scored: &Scored, dry_run: bool) {
    for (row, id) in &scored.changed {
        print(&format!(
            "row {row}: submission {id} was imported before and has changed at the source since; Hamroh keeps what it \
             imported (correct the record in Hamroh)\n"
        ));
    }
    for note in &scored.notes {
        print(&format!("note: {note}\n"));
    }
    for p in &scored.problems {
        print(&format!("{p}\n"));
    }
    if dry_run {
        for r in &scored.ready {
            print(&describe(&r.submission, &r.person, &r.screenings));
        }
    }
}

/// One alert per person and red flag of a part, with the person's code only.
async fn flag_alerts(
    store: &Store,
    part: &Batch,
    contacts: &[hamroh_store::Contact],
) -> Result<Vec<hamroh_store::OutboxMessage>, hamroh_store::StoreError> {
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

/// Gives every new person whose code is in `taken` (registered already, or drawn by an earlier row
/// of the part) a fresh id, with their screenings and import records: a person code is 40 bits of
/// the id, and in a national registry an import of thousands draws a taken one now and then.
/// Returns how many were given a fresh id.
pub(super) fn reissue_taken_codes(
    batch: &mut Batch,
    imported: &mut [ImportedSubmission],
    taken: &mut HashSet<String>,
) -> usize {
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
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let codes: Vec<String> = codes.into_iter().map(str::to_owned).collect();
    let persons = store.persons_by_code(&codes).await?;
    let facts = store.person_facts_many(&persons.iter().map(|p| p.id).collect::<Vec<_>>()).await?;
    Ok(persons
        .into_iter()
        .filter(|p| facts.get(&p.id).is_some_and(|f| person_access(principal, f, true).allowed()))
        .map(|p| (p.code.clone(), p))
        .collect())
}

/// One line of the dry-run report: what the row would create (codes and scores, no names).
fn describe(s: &Submission, person: &Person, screenings: &[Screening]) -> String {
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

/// Why the second pass stops where the first found nothing wrong.
fn changed(path: &Path) -> String {
    format!("{}: the file, or the records it names, changed since it was checked", path.display())
}

/// The second pass's parts: how many there are, how many are stored, and what each needs.
struct Parts<'a> {
    count: usize,
    stored: usize,
    file_detail: &'a str,
    contacts: Vec<hamroh_store::Contact>,
    progress: ProgressBar,
    pause_ms: u64,
}

impl Parts<'_> {
    /// Says how far the import got before it stopped, and how to go on.
    fn stopped(&self, why: Failure) -> Failure {
        self.progress.abandon();
        eprintln!(
            "hamroh: {} parts stored ({} submissions); run the same import again to store the rest (what is \
             stored is skipped)",
            self.stored,
            self.progress.position()
        );
        why
    }
}
