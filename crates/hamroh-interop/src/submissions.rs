//! Survey submissions exported from KoBoToolbox or ODK Central, read through a mapping file that
//! says which column is which registration field or instrument item.
//!
//! Reading happens in two steps, both without touching a database: [`plan`] checks every row
//! (registration fields, answer cells, submission ids) and [`score`] runs the scoring engine once
//! the person each row is about is known. Every problem carries its row and column, so that a dry
//! run can list them all and a real import can refuse the file without storing any of it.

use std::collections::{BTreeMap, HashMap};

use hamroh_domain::instrument::{AnswerError, Catalog, Instrument, ScoreContext};
use hamroh_domain::model::{Millis, Person, PersonRecord, Screening};
use hamroh_domain::org::Lang;
use hamroh_domain::registration::{EpisodeInput, Registration, RegistrationContext};
use rayon::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::sheet::{self, Row, Sheet};

/// A problem with the file, a row or one cell. Rows are numbered as the user sees them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
}

impl Problem {
    fn file(message: impl Into<String>) -> Self {
        Self { row: None, column: None, message: message.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.row, &self.column) {
            (Some(r), Some(c)) => write!(f, "row {r}, column `{c}`: {}", self.message),
            (Some(r), None) => write!(f, "row {r}: {}", self.message),
            (None, Some(c)) => write!(f, "column `{c}`: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// The mapping file (TOML). See the README for an example.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Where the submissions come from, e.g. `kobo:aBcD123`; submission ids are unique per source.
    pub source: String,
    /// The column that identifies a submission (KoBoToolbox `_uuid`, ODK Central `KEY`).
    pub submission_id: String,
    /// When the person was screened (KoBoToolbox `end` or `_submission_time`, ODK Central
    /// `SubmissionDate`); the time of the import when absent.
    #[serde(default)]
    pub encounter_at: Option<String>,
    /// The language the form was given in, for every row: `tg`, `ru` or `en` (default `tg`).
    #[serde(default)]
    pub lang: Option<String>,
    /// A column holding the language per row (overrides `lang`).
    #[serde(default)]
    pub lang_column: Option<String>,
    #[serde(default)]
    pub person: PersonColumns,
    #[serde(default)]
    pub screening: Vec<ScreeningColumns>,
    /// Per column, what a cell's text stands for: `[recode."grp/sex"] 1 = "male"`.
    #[serde(default)]
    pub recode: BTreeMap<String, BTreeMap<String, String>>,
}

/// Who each row is about: a registered person's code, or a new person's registration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonColumns {
    /// A registered person's code (`HM-XXXX-XXXX`); a row with a code registers nobody.
    pub code: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub sex: Option<String>,
    pub birth_year: Option<String>,
    pub district: Option<String>,
    pub phone: Option<String>,
    /// Consent to care (required for a registration): `yes`, `1` or `true` means given.
    pub consent_care: Option<String>,
    pub consent_research: Option<String>,
    pub episode: Option<EpisodeColumns>,
}

/// The most recent migration episode, when the form asks about it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpisodeColumns {
    pub destination_country: Option<String>,
    pub destination_region: Option<String>,
    pub year_from: Option<String>,
    pub year_to: Option<String>,
    pub work_sector: Option<String>,
    pub occupation: Option<String>,
    pub legal_status: Option<String>,
    pub return_date: Option<String>,
    pub return_reason: Option<String>,
    /// `yes`, `1` or `true`: injured at work.
    pub injury: Option<String>,
    pub injury_cause: Option<String>,
    pub injury_body_part: Option<String>,
}

/// One instrument's items: by item id, or every item under a column prefix (`phq9/` + item id).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningColumns {
    pub instrument: String,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub items: BTreeMap<String, String>,
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// Who a submission is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    New(Box<PersonRecord>),
    Code(String),
}

/// One instrument's answers in one row, before scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub instrument: String,
    pub answers: Vec<Option<i64>>,
    /// The column of each item, to report the engine's problems where they are (shared by every
    /// row).
    columns: std::sync::Arc<[String]>,
}

/// A row that passed every check of [`plan`].
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub row: usize,
    pub id: String,
    /// A digest of every mapped cell, to tell a changed re-export from the same submission.
    pub digest: String,
    pub subject: Subject,
    pub encounter_at: Option<Millis>,
    pub lang: Lang,
    pub answers: Vec<Answers>,
}

/// What the rows hold, and every problem found.
#[derive(Debug, Default)]
pub struct Plan {
    pub submissions: Vec<Submission>,
    pub problems: Vec<Problem>,
    /// What the rows would store that a person should look at, without stopping the import: the
    /// same respondent registered twice in one file.
    pub notes: Vec<Problem>,
}

/// The organisation and user an import registers for, and now.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub organisation_id: Uuid,
    pub user_id: Option<Uuid>,
    pub now: Millis,
    pub today: jiff::civil::Date,
}

/// An instrument, its items' column indices and their names (shared by every row's answers).
type MappedInstrument<'a> = (&'a Instrument, Vec<usize>, std::sync::Arc<[String]>);

/// The mapping with its columns found in the file.
struct Compiled<'a> {
    id: usize,
    encounter_at: Option<usize>,
    lang: Lang,
    lang_column: Option<usize>,
    code: Option<usize>,
    fields: Vec<(&'static str, usize)>,
    screenings: Vec<MappedInstrument<'a>>,
    /// By column index: the column's recoding, if the mapping gives one.
    recode: Vec<Option<&'a BTreeMap<String, String>>>,
    /// Every mapped column once, in file order: what the digest covers and formulas are sought in.
    used: Vec<usize>,
}

fn registration_fields(p: &PersonColumns) -> Vec<(&'static str, &Option<String>)> {
    let mut fields = vec![
        ("given_name", &p.given_name),
        ("family_name", &p.family_name),
        ("sex", &p.sex),
        ("birth_year", &p.birth_year),
        ("district", &p.district),
        ("phone", &p.phone),
        ("consent_care", &p.consent_care),
        ("consent_research", &p.consent_research),
    ];
    if let Some(e) = &p.episode {
        fields.extend([
            ("episodes.0.destination_country", &e.destination_country),
            ("episodes.0.destination_region", &e.destination_region),
            ("episodes.0.year_from", &e.year_from),
            ("episodes.0.year_to", &e.year_to),
            ("episodes.0.work_sector", &e.work_sector),
            ("episodes.0.occupation", &e.occupation),
            ("episodes.0.legal_status", &e.legal_status),
            ("episodes.0.return_date", &e.return_date),
            ("episodes.0.return_reason", &e.return_reason),
            ("episodes.0.injury", &e.injury),
            ("episodes.0.injury_cause", &e.injury_cause),
            ("episodes.0.injury_body_part", &e.injury_body_part),
        ]);
    }
    fields
}

fn compile<'a>(mapping: &'a Mapping, header: &[String], catalog: &'a Catalog) -> Result<Compiled<'a>, Vec<Problem>> {
    let mut problems = Vec::new();
    let id = find_column(header, &mut problems, &mapping.submission_id, "the submission id");
    let encounter_at =
        mapping.encounter_at.as_deref().and_then(|c| find_column(header, &mut problems, c, "the encounter time"));
    let lang_column =
        mapping.lang_column.as_deref().and_then(|c| find_column(header, &mut problems, c, "the language"));
    let code = mapping.person.code.as_deref().and_then(|c| find_column(header, &mut problems, c, "the person's code"));
    let mut fields = Vec::new();
    for (field, column) in registration_fields(&mapping.person) {
        if let Some(c) = column.as_deref().and_then(|c| find_column(header, &mut problems, c, field)) {
            fields.push((field, c));
        }
    }
    let mut screenings = Vec::new();
    for s in &mapping.screening {
        let Some(instrument) = catalog.get(&s.instrument) else {
            problems.push(Problem::file(format!(
                "the mapping names instrument `{}`, which Hamroh does not know (known: {})",
                s.instrument,
                catalog.ids().collect::<Vec<_>>().join(", ")
            )));
            continue;
        };
        for named in s.items.keys().filter(|k| instrument.item_index(k).is_none()) {
            problems.push(Problem::file(format!("{} has no item `{named}`", instrument.short_name)));
        }
        let mut columns = Vec::new();
        for item in &instrument.items {
            let name = match (s.items.get(&item.id), &s.prefix) {
                (Some(c), _) => c.clone(),
                (None, Some(prefix)) => format!("{prefix}{}", item.id),
                (None, None) => {
                    problems.push(Problem::file(format!(
                        "the mapping gives no column for item `{}` of {}",
                        item.id, instrument.short_name
                    )));
                    continue;
                }
            };
            // An optional item (PHQ-9 item 10) may have no column: it is then not answered.
            if item.optional && !s.items.contains_key(&item.id) && sheet::column(header, &name).is_none() {
                break;
            }
            columns.extend(find_column(
                header,
                &mut problems,
                &name,
                &format!("{} item {}", instrument.short_name, item.id),
            ));
        }
        let names = columns.iter().map(|c| header[*c].clone()).collect();
        screenings.push((instrument, columns, names));
    }
    let lang = match mapping.lang.as_deref().map(str::parse::<Lang>) {
        None => Lang::Tg,
        Some(Ok(l)) => l,
        Some(Err(_)) => {
            problems.push(Problem::file("lang must be tg, ru or en"));
            Lang::Tg
        }
    };
    if code.is_none() && mapping.person.code.is_none() {
        for (field, column) in [("sex", &mapping.person.sex), ("birth_year", &mapping.person.birth_year)]
            .into_iter()
            .chain([("district", &mapping.person.district), ("consent_care", &mapping.person.consent_care)])
        {
            if column.is_none() {
                problems.push(Problem::file(format!(
                    "the mapping needs [person] code (a registered person) or {field} (to register one)"
                )));
            }
        }
    }
    if mapping.screening.is_empty() && mapping.person.code.is_some() {
        problems
            .push(Problem::file("the mapping names neither a registration nor any [[screening]]: nothing to import"));
    }
    let mut recode = vec![None; header.len()];
    for (name, table) in &mapping.recode {
        if let Some(c) = find_column(header, &mut problems, name, "a recoding") {
            recode[c] = Some(table);
        }
    }
    if problems.iter().any(|p| p.column.is_some()) && headed_by_labels(header) {
        problems.insert(
            0,
            Problem::file(
                "the columns are headed by the questions' labels, as KoBoToolbox exports by default: export the \
                 data again choosing \"XML values and headers\" (and ODK Central's CSV as it is), so that \
                 headers are the questions' names and answers their values",
            ),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // Every named column was found, or a problem says which was not.
    let Some(id) = id else { return Err(vec![Problem::file("no submission id column")]) };
    let mut used: Vec<usize> = [Some(id), encounter_at, lang_column, code]
        .into_iter()
        .flatten()
        .chain(fields.iter().map(|f| f.1))
        .chain(screenings.iter().flat_map(|s| s.1.iter().copied()))
        .collect();
    used.sort_unstable();
    used.dedup();
    Ok(Compiled { id, encounter_at, lang, lang_column, code, fields, screenings, recode, used })
}

/// A mapped column's index, or a problem that names it (with columns of a similar name).
/// Whether headers read as question labels (words with spaces, question marks): the names an
/// XLSForm gives its questions (`group/q1`, `_uuid`) can have neither.
fn headed_by_labels(header: &[String]) -> bool {
    header.iter().filter(|h| h.contains(' ') || h.contains('?')).count() >= 2
}

fn find_column(header: &[String], problems: &mut Vec<Problem>, name: &str, what: &str) -> Option<usize> {
    let found = sheet::column(header, name);
    if found.is_none() {
        let last = name.rsplit(['/', '-', '.']).next().unwrap_or(name);
        let near: Vec<&str> =
            header.iter().filter(|h| h.ends_with(last) && *h != name).map(String::as_str).take(3).collect();
        let hint = if near.is_empty() { String::new() } else { format!(" (the file has {})", near.join(", ")) };
        problems.push(Problem {
            row: None,
            column: Some(name.to_owned()),
            message: format!("the mapping names this column for {what}, but the file has no such column{hint}"),
        });
    }
    found
}

/// Whether a yes/no cell says yes (as KoBoToolbox and ODK export a boolean or a select-one).
fn yes(text: &str) -> bool {
    matches!(text.to_ascii_lowercase().as_str(), "yes" | "1" | "true")
}

/// A timestamp as KoBoToolbox and ODK Central write them; without an offset it is UTC.
fn parse_time(text: &str) -> Option<Millis> {
    let has_offset = text.ends_with(['Z', 'z']) || text.get(10..).is_some_and(|t| t.contains(['+', '-']));
    if has_offset {
        return text.parse::<jiff::Timestamp>().ok().map(|ts| ts.as_millisecond());
    }
    let dt = text
        .parse::<jiff::civil::DateTime>()
        .ok()
        .or_else(|| text.parse::<jiff::civil::Date>().ok().map(|d| d.to_datetime(jiff::civil::Time::midnight())))?;
    dt.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_millisecond())
}

/// The mapping's columns found in a file's header, ready to check the file's rows.
pub struct Checker<'a> {
    compiled: Compiled<'a>,
    header: Vec<String>,
}

impl<'a> Checker<'a> {
    /// Finds every column the mapping names, or says which are missing.
    pub fn new(mapping: &'a Mapping, header: &[String], catalog: &'a Catalog) -> Result<Self, Vec<Problem>> {
        Ok(Self { compiled: compile(mapping, header, catalog)?, header: header.to_vec() })
    }

    /// Checks rows on every core: everything but what spans rows ([`AcrossRows`]); results in the
    /// rows' order.
    pub fn check(&self, rows: &[Row], ctx: &Context) -> Vec<Result<Submission, Vec<Problem>>> {
        rows.par_iter().map(|row| check_row(&self.compiled, &self.header, row, ctx)).collect()
    }
}

/// The checks that span a file's rows: a submission id that an earlier row has, a person that an
/// earlier row registers. Only a 64-bit hash of each key and its row is kept, not the rows, so a
/// file can be checked as it is read; two different keys hashing alike (about one chance in ten
/// million for a million rows) would be reported as alike.
#[derive(Default)]
pub struct AcrossRows {
    ids: HashMap<u64, usize>,
    persons: HashMap<u64, usize>,
}

fn key_hash(key: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key)
}

impl AcrossRows {
    /// Takes one checked row, in file order: its submission if it passes. A repeated submission
    /// id is reported at its later row, whatever else is wrong with the earlier one.
    pub fn take(
        &mut self,
        checker: &Checker<'_>,
        row: &Row,
        result: Result<Submission, Vec<Problem>>,
        problems: &mut Vec<Problem>,
        notes: &mut Vec<Problem>,
    ) -> Option<Submission> {
        let id = row.cells.get(checker.compiled.id).map(str::trim).unwrap_or("");
        let repeated = match id {
            "" => None,
            id => self.ids.insert(key_hash(id), row.number),
        };
        match (repeated, result) {
            (Some(first), Ok(_)) => {
                problems.push(Problem {
                    row: Some(row.number),
                    column: Some(checker.header[checker.compiled.id].clone()),
                    message: format!("the same submission id as row {first}"),
                });
                None
            }
            (_, Ok(s)) => {
                notes.extend(self.registered_twice(&s));
                Some(s)
            }
            (_, Err(p)) => {
                problems.extend(p);
                None
            }
        }
    }

    /// A note when a row would register the same person as an earlier row: the same sex, year of
    /// birth and name (in any script, as search matches names), or the same phone.
    fn registered_twice(&mut self, s: &Submission) -> Option<Problem> {
        let Subject::New(record) = &s.subject else { return None };
        let p = &record.person;
        let mut keys = Vec::new();
        if p.family_name.is_some() || p.given_name.is_some() {
            let key = |n: &Option<String>| n.as_deref().map(|n| hamroh_domain::names::keys(n).key).unwrap_or_default();
            keys.push(format!(
                "{}|{}|{}|{}",
                p.sex.as_str(),
                p.birth_year.get(),
                key(&p.family_name),
                key(&p.given_name)
            ));
        }
        if let Some(phone) = &p.phone {
            keys.push(format!("phone|{}", phone.as_str()));
        }
        let keys: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
        let note = keys.iter().find_map(|k| self.persons.get(k).copied()).map(|first| Problem {
            row: Some(s.row),
            column: None,
            message: format!(
                "registers a person like row {first} (the same name, sex and year of birth, or phone): \
                 check that they are two people, or give the second row the first's Hamroh code"
            ),
        });
        for k in keys {
            self.persons.entry(k).or_insert(s.row);
        }
        note
    }
}

/// Checks every row of a file read whole. Rows that pass are returned with the problems of those
/// that did not.
pub fn plan(sheet: &Sheet, mapping: &Mapping, catalog: &Catalog, ctx: &Context) -> Plan {
    let checker = match Checker::new(mapping, &sheet.header, catalog) {
        Ok(c) => c,
        Err(problems) => return Plan { submissions: Vec::new(), problems, notes: Vec::new() },
    };
    let mut out = Plan::default();
    let mut across = AcrossRows::default();
    for (row, result) in sheet.rows.iter().zip(checker.check(&sheet.rows, ctx)) {
        if let Some(s) = across.take(&checker, row, result, &mut out.problems, &mut out.notes) {
            out.submissions.push(s);
        }
    }
    out
}

/// Checks one row: everything but whether its submission id repeats another row's.
fn check_row(compiled: &Compiled<'_>, header: &[String], row: &Row, ctx: &Context) -> Result<Submission, Vec<Problem>> {
    let at = |column: usize, message: String| Problem {
        row: Some(row.number),
        column: Some(header[column].clone()),
        message,
    };
    if sheet::ragged(header, row) {
        return Err(vec![Problem {
            row: Some(row.number),
            column: None,
            message: format!("{} cells where the header has {}", row.cells.len(), header.len()),
        }]);
    }
    let mut problems = Vec::new();
    for &c in compiled.used.iter().filter(|c| row.formulas.contains(c)) {
        problems.push(at(c, "a formula where a value is expected: export values, not formulas".into()));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let cell = |c: usize| -> &str {
        let text = row.cells[c].trim();
        compiled.recode[c].and_then(|t| t.get(text)).map_or(text, String::as_str)
    };
    let id = cell(compiled.id);
    if id.is_empty() {
        return Err(vec![at(compiled.id, "no submission id".into())]);
    }
    let encounter_at = match compiled.encounter_at.map(|c| (c, cell(c))) {
        None => None,
        Some((c, text)) => match parse_time(text) {
            Some(t) if t <= ctx.now => Some(t),
            Some(_) => {
                return Err(vec![at(c, format!("`{text}` is in the future"))]);
            }
            None => {
                return Err(vec![at(c, format!("`{text}` is not a date and time (YYYY-MM-DDTHH:MM:SS)"))]);
            }
        },
    };
    let lang = match compiled.lang_column.map(|c| (c, cell(c))) {
        None => compiled.lang,
        Some((_, "")) => compiled.lang,
        Some((c, text)) => match text.parse::<Lang>() {
            Ok(l) => l,
            Err(_) => {
                return Err(vec![at(c, format!("`{text}` is not tg, ru or en (recode it in the mapping)"))]);
            }
        },
    };
    let subject = match compiled.code.map(cell) {
        // Codes match whatever their case or spacing (`hm-7k3q 9d2f`).
        Some(code) if !code.is_empty() => {
            Subject::Code(hamroh_domain::names::normalise_code(code).unwrap_or_else(|| code.to_owned()))
        }
        _ if compiled.fields.is_empty() => {
            return Err(vec![at(compiled.code.unwrap_or(compiled.id), "no person code".into())]);
        }
        _ => match register(compiled, &cell, ctx) {
            Ok(record) => Subject::New(Box::new(record)),
            Err(problems) => return Err(problems.into_iter().map(|(c, m)| at(c, m)).collect()),
        },
    };
    let mut answers = Vec::new();
    for (instrument, columns, names) in &compiled.screenings {
        let texts: Vec<&str> = columns.iter().map(|c| cell(*c)).collect();
        if texts.iter().all(|t| t.is_empty()) {
            continue;
        }
        let mut values = Vec::with_capacity(texts.len());
        for (text, c) in texts.iter().zip(columns) {
            match *text {
                "" | "-" => values.push(None),
                t => match t.parse::<i64>() {
                    Ok(v) => values.push(Some(v)),
                    Err(_) => problems.push(at(
                        *c,
                        format!("`{t}` is not an answer value of {} (recode it in the mapping)", instrument.short_name),
                    )),
                },
            }
        }
        answers.push(Answers { instrument: instrument.id.clone(), answers: values, columns: names.clone() });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut digest = Sha256::new();
    for &c in &compiled.used {
        digest.update(row.cells[c].as_bytes());
        digest.update([0x1f]);
    }
    Ok(Submission {
        row: row.number,
        id: id.to_owned(),
        digest: hex::encode(digest.finalize()),
        subject,
        encounter_at,
        lang,
        answers,
    })
}

/// A new person's registration from a row, checked by the same rules as the registration form.
fn register<'c>(
    compiled: &Compiled<'_>,
    cell: &dyn Fn(usize) -> &'c str,
    ctx: &Context,
) -> Result<PersonRecord, Vec<(usize, String)>> {
    let mut input = Registration::default();
    let mut episode = EpisodeInput::default();
    let mut care = false;
    let mut research = false;
    for &(field, c) in &compiled.fields {
        let v = cell(c).to_owned();
        match field {
            "given_name" => input.given_name = v,
            "family_name" => input.family_name = v,
            "sex" => input.sex = v,
            "birth_year" => input.birth_year = v,
            "district" => input.district = v,
            "phone" => input.phone = v,
            "consent_care" => care = yes(&v),
            "consent_research" => research = yes(&v),
            "episodes.0.destination_country" => episode.destination_country = v,
            "episodes.0.destination_region" => episode.destination_region = v,
            "episodes.0.year_from" => episode.year_from = v,
            "episodes.0.year_to" => episode.year_to = v,
            "episodes.0.work_sector" => episode.work_sector = v,
            "episodes.0.occupation" => episode.occupation = v,
            "episodes.0.legal_status" => episode.legal_status = v,
            "episodes.0.return_date" => episode.return_date = v,
            "episodes.0.return_reason" => episode.return_reason = v,
            "episodes.0.injury" => episode.injury = yes(&v),
            "episodes.0.injury_cause" => episode.injury_cause = v,
            "episodes.0.injury_body_part" => episode.injury_body_part = v,
            _ => {}
        }
    }
    input.episodes = vec![episode];
    input.consents = [(care, "care"), (research, "research")]
        .into_iter()
        .filter(|(given, _)| *given)
        .map(|(_, s)| s.to_owned())
        .collect();
    let reg = RegistrationContext {
        person_id: Uuid::now_v7(),
        organisation_id: ctx.organisation_id,
        user_id: ctx.user_id,
        now: ctx.now,
        today: ctx.today,
    };
    input.validate(&reg).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| {
                let field = if e.field == "consents" { "consent_care" } else { e.field.as_str() };
                let column = compiled.fields.iter().find(|f| f.0 == field).map_or(compiled.id, |f| f.1);
                (column, describe(e.message))
            })
            .collect()
    })
}

/// The registration form's messages, in words for the import report.
fn describe(message: &str) -> String {
    match message {
        "error-sex" => "sex must be male or female (recode it in the mapping)",
        "error-birth-year" => "not a plausible year of birth",
        "error-district" => "not a district code Hamroh knows (e.g. TJ-KT.kulob; recode it in the mapping)",
        "error-phone" => "not a phone number",
        "error-consent-care" => "consent to care is not recorded as given: a person cannot be registered without it",
        "error-country" => "not an ISO country code (e.g. RU)",
        "error-year" | "error-year-to" => "not a plausible year",
        "error-return-date" => "not a past date (YYYY-MM-DD)",
        "error-choose" => "not one of Hamroh's codes for this field (recode it in the mapping)",
        other => other,
    }
    .to_owned()
}

/// Scores a submission's answers for the person it is about, as the engine scores any screening.
pub fn score(
    submission: &Submission,
    person: &Person,
    catalog: &Catalog,
    cutoff: &dyn Fn(&str, &Person) -> Option<i64>,
    ctx: &Context,
) -> Result<Vec<Screening>, Vec<Problem>> {
    let encounter_id = Uuid::now_v7();
    let mut screenings = Vec::new();
    let mut problems = Vec::new();
    for a in &submission.answers {
        let Some(instrument) = catalog.get(&a.instrument) else { continue };
        let score_ctx = ScoreContext {
            sex: Some(person.sex),
            positive_at_least: cutoff(&instrument.id, person),
            lang: Some(submission.lang),
        };
        match instrument.score(&a.answers, &score_ctx) {
            Ok(score) => screenings.push(Screening {
                id: Uuid::now_v7(),
                encounter_id,
                person_id: person.id,
                organisation_id: ctx.organisation_id,
                user_id: ctx.user_id,
                encounter_at: submission.encounter_at.unwrap_or(ctx.now),
                instrument: instrument.id.clone(),
                instrument_version: instrument.version.clone(),
                lang: submission.lang,
                answers: a.answers.clone(),
                outcome: score.into_outcome(),
            }),
            Err(e) => problems.push(Problem {
                row: Some(submission.row),
                column: e.item().and_then(|n| a.columns.get(n - 1)).cloned(),
                message: format!("{}: {}", instrument.short_name, engine_message(&e)),
            }),
        }
    }
    if problems.is_empty() { Ok(screenings) } else { Err(problems) }
}

/// [`score`] for each submission and its person, in parallel, results in the same order.
pub fn score_each(
    work: &[(&Submission, &Person)],
    catalog: &Catalog,
    cutoff: &(dyn Fn(&str, &Person) -> Option<i64> + Sync),
    ctx: &Context,
) -> Vec<Result<Vec<Screening>, Vec<Problem>>> {
    work.par_iter().map(|(s, p)| score(s, p, catalog, cutoff, ctx)).collect()
}

fn engine_message(e: &AnswerError) -> String {
    match e {
        AnswerError::OutOfRange { value, allowed, .. } => {
            format!("{value} is not an answer; expected one of {allowed}")
        }
        AnswerError::Missing { .. } => "an answer is required".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
