//! Writing and reading Hamroh's records. Every write goes through [`Store::insert_batch`], which
//! stores a batch of records and their audit events in one transaction: one record is a batch of one.

use hamroh_domain::model::{Batch, Person, SafetyAssessment, Screening, period_month};
use hamroh_domain::person::{BirthYear, DistrictCode, Phone};
use hamroh_domain::referral::ReferralStatus;
use hamroh_domain::safety::SafetyRecord;
use jiff::civil::Date;
use uuid::Uuid;

use crate::audit::{Actor, NewAuditEvent};
use crate::cube::Increments;
use crate::exec::{Tx, Value, sql};
use crate::{Result, Store, StoreError};

/// The audit events that storing a batch records, one per record.
fn audit_events(batch: &Batch) -> Vec<NewAuditEvent> {
    let mut events = Vec::new();
    for o in &batch.organisations {
        events.push(NewAuditEvent::ok("create", "organisation", o.id));
    }
    for s in &batch.services {
        events.push(NewAuditEvent::ok("create", "service", s.id));
    }
    for u in &batch.users {
        let mut e = NewAuditEvent::ok("create", "user", u.id);
        let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
        e.detail = Some(format!("roles={}", roles.join(",")));
        events.push(e);
    }
    for p in &batch.persons {
        let id = p.person.id;
        events.push(NewAuditEvent::ok("create", "person", id).person(id));
        for ep in &p.episodes {
            events.push(NewAuditEvent::ok("create", "migration_episode", ep.id).person(id));
        }
        for c in &p.consents {
            let mut e = NewAuditEvent::ok(if c.given { "consent_given" } else { "consent_withdrawn" }, "consent", c.id);
            e.detail = Some(c.scope.to_string());
            events.push(e.person(id));
        }
    }
    for s in &batch.screenings {
        let mut e = NewAuditEvent::ok("create", "screening", s.id).person(s.person_id);
        e.detail = Some(s.instrument.clone());
        events.push(e);
    }
    for r in &batch.referrals {
        events.push(NewAuditEvent::ok("create", "referral", r.id).person(r.person_id));
    }
    for f in &batch.follow_ups {
        events.push(NewAuditEvent::ok("create", "follow_up", f.id).person(f.person_id));
    }
    for d in &batch.decisions {
        let action = if d.amends.is_some() { "amend_decision" } else { "decide" };
        let mut e = NewAuditEvent::ok(action, "encounter", d.encounter_id).person(d.person_id);
        e.detail = Some(format!("{}: {}", d.choice, d.action));
        events.push(e);
    }
    for a in &batch.safety_assessments {
        let (action, detail) = match &a.record {
            SafetyRecord::Assessed(x) => ("assess", format!("{}: {}", a.flag, x.action)),
            SafetyRecord::NotPossible { reason, attempts, .. } => {
                ("dismiss_flag", format!("{}: {reason} after {attempts} tries", a.flag))
            }
        };
        let mut e = NewAuditEvent::ok(action, "safety_assessment", a.id).person(a.person_id);
        e.detail = Some(detail);
        events.push(e);
    }
    events
}

/// A safety assessment as its table's columns.
struct SafetyColumns {
    outcome: &'static str,
    /// Thoughts, plan, act in the past year, imminent risk, means counselled.
    answers: Option<(bool, bool, bool, bool, bool)>,
    safety_plan: Option<String>,
    action: Option<&'static str>,
    not_possible: Option<&'static str>,
    attempts: Option<i64>,
    note: Option<String>,
}

impl SafetyColumns {
    fn of(a: &SafetyAssessment) -> Self {
        match &a.record {
            SafetyRecord::Assessed(x) => Self {
                outcome: "assessed",
                answers: Some((x.thoughts, x.plan, x.act_past_year, x.imminent_risk, x.means_counselled)),
                safety_plan: Some(x.safety_plan.clone()),
                action: Some(x.action.as_str()),
                not_possible: None,
                attempts: None,
                note: x.note.clone(),
            },
            SafetyRecord::NotPossible { reason, attempts, note } => Self {
                outcome: "not_possible",
                answers: None,
                safety_plan: None,
                action: None,
                not_possible: Some(reason.as_str()),
                attempts: Some(i64::from(*attempts)),
                note: note.clone(),
            },
        }
    }
}

/// A submission imported from a survey tool, remembered so that it is never imported twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedSubmission {
    pub submission_id: String,
    pub digest: String,
    pub person_id: Uuid,
    pub encounter_id: Option<Uuid>,
}

pub(crate) struct Import<'a> {
    source: &'a str,
    submissions: &'a [ImportedSubmission],
    detail: String,
}

fn date_text(d: Date) -> String {
    d.to_string()
}

/// The statement that stores stays abroad, up to its values; see [`episode_values`].
pub(crate) const EPISODE_INSERT: &str = "INSERT INTO migration_episodes (id, person_id, destination_country, \
     destination_region, year_from, year_to, work_sector, occupation, legal_status, return_date, return_reason, \
     injury, injury_cause, injury_body_part, created_at) ";

/// A stay abroad's values for [`EPISODE_INSERT`], recorded at `created_at`.
pub(crate) fn episode_values(e: &hamroh_domain::model::MigrationEpisode, created_at: i64) -> Vec<Value<'_>> {
    values![
        e.id,
        e.person_id,
        &e.destination_country,
        &e.destination_region,
        i64::from(e.year_from),
        e.year_to.map(i64::from),
        e.work_sector.as_str(),
        &e.occupation,
        e.legal_status.as_str(),
        e.return_date.map(date_text),
        e.return_reason.map(|r| r.as_str()),
        e.injury.is_some(),
        e.injury.map(|i| i.cause.as_str()),
        e.injury.map(|i| i.body_part.as_str()),
        created_at
    ]
}

pub(crate) fn answers_text(answers: &[Option<i64>]) -> String {
    answers.iter().map(|a| a.map_or_else(|| "-".to_owned(), |v| v.to_string())).collect::<Vec<_>>().join(",")
}

fn parse_answers(text: &str) -> Result<Vec<Option<i64>>> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|a| match a {
            "-" => Ok(None),
            v => v.parse().map(Some).map_err(|_| StoreError::Corrupt(format!("answer `{v}`"))),
        })
        .collect()
}

/// Persons whose encounters a statement answers at once (three parameters each).
const SELF_HARM_CHUNK: usize = 256;

/// What one caller writes in a shared transaction: a batch and its messages, or audit events of
/// their own (a read, a refusal), all by one actor.
pub(crate) struct Part<'a> {
    pub actor: &'a Actor,
    pub batch: &'a Batch,
    pub messages: &'a [crate::outbox::OutboxMessage],
    pub events: &'a [NewAuditEvent],
}

/// Stores the records of every part (and, for an import, its submission ids) inside the open
/// transaction `tx`, with one audit event per record, the parts' own events and messages; the
/// indicator cube's counts are added to `inc`, for the caller to write before the commit. Each
/// table takes one statement for all the parts' rows of it.
pub(crate) async fn write_in_tx(
    tx: &mut Tx,
    parts: &[Part<'_>],
    import: Option<&Import<'_>>,
    inc: &mut Increments,
    derived: Derived,
) -> Result<()> {
    let mut events: Vec<(&Actor, NewAuditEvent)> = Vec::new();
    for part in parts {
        // The reads that led to the write first, as they happened.
        events.extend(part.events.iter().map(|e| (part.actor, e.clone())));
        events.extend(audit_events(part.batch).into_iter().map(|e| (part.actor, e)));
    }
    if let (Some(i), Some(first)) = (&import, parts.first()) {
        let mut e = NewAuditEvent::ok("import", "submissions", i.source);
        e.detail = Some(i.detail.clone());
        events.push((first.actor, e));
    }
    let batches: Vec<&Batch> = parts.iter().map(|p| p.batch).collect();
    // Rows are built before the first statement runs: the future then holds only plain values.
    for (head, rows) in table_rows(&batches, import, parts.first().and_then(|p| p.actor.user_id)) {
        tx.insert_rows(head, rows, "").await?;
    }
    // An encounter that did not ask about self-harm is kept, with the clinician's reason if any;
    // one that asked answers the person's encounters up to it, those of this transaction too.
    // A statement per encounter was most of a large batch's statements (1,600 of a demo chunk
    // of 1,000 persons): the kept ones go in one insert, the answered ones in a few deletes.
    let asks = self_harm_asks(&batches);
    let unasked = asks.iter().filter(|a| !a.4).map(|&(person_id, organisation_id, encounter, at, _, reason)| {
        values![encounter, person_id, organisation_id, reason, at]
    });
    tx.insert_rows(
        "INSERT INTO self_harm_unasked (encounter_id, person_id, organisation_id, reason, at) ",
        unasked,
        " ON CONFLICT (encounter_id) DO NOTHING",
    )
    .await?;
    let mut latest_asked: std::collections::BTreeMap<Uuid, i64> = std::collections::BTreeMap::new();
    for &(person_id, _, _, at, asked, _) in &asks {
        if asked {
            let latest = latest_asked.entry(person_id).or_insert(at);
            *latest = (*latest).max(at);
        }
    }
    let latest_asked: Vec<(Uuid, i64)> = latest_asked.into_iter().collect();
    for chunk in latest_asked.chunks(SELF_HARM_CHUNK) {
        let sqlite = !tx.concurrent();
        let mut text = format!(
            "DELETE FROM self_harm_unasked WHERE person_id IN ({}) AND at <= CASE person_id",
            crate::exec::placeholder_list(sqlite, 0, chunk.len())
        );
        for i in 0..chunk.len() {
            let (when, then) = (chunk.len() + 2 * i, chunk.len() + 2 * i + 1);
            text.push_str(&format!(
                " WHEN {} THEN {}",
                crate::exec::placeholder_list(sqlite, when, 1),
                crate::exec::placeholder_list(sqlite, then, 1)
            ));
        }
        text.push_str(" END");
        // Its text depends on the chunk's size: prepared once, not kept.
        let mut statement = sql(sqlx::AssertSqlSafe(text)).once();
        for (person_id, _) in chunk {
            statement = statement.bind(*person_id);
        }
        for (person_id, at) in chunk {
            statement = statement.bind(*person_id).bind(*at);
        }
        tx.execute(statement).await?;
    }
    if derived == Derived::Now {
        answer_red_flags_and_refresh(tx, &batches).await?;
    }
    crate::cube::count_batch(tx, &batches, inc).await?;
    let events: Vec<(&Actor, &NewAuditEvent)> = events.iter().map(|(actor, e)| (*actor, e)).collect();
    crate::audit::append_each(tx, &events).await?;
    let messages: Vec<&crate::outbox::OutboxMessage> = parts.iter().flat_map(|p| p.messages).collect();
    crate::outbox::enqueue(tx, &messages).await?;
    Ok(())
}

/// When a write brings the tables derived from the records (open red flags, first unanswered
/// screenings) up to date: with its records, or once after a bulk load ([`crate::bulk`]), whose
/// statements here would read through the indexes it sets aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Derived {
    Now,
    AfterLoad,
}

/// Closes the red flags that the batches' safety assessments answer, and recomputes the first
/// unanswered screening of every person whose records may have raised or answered one.
async fn answer_red_flags_and_refresh(tx: &mut Tx, batches: &[&Batch]) -> Result<()> {
    // An assessment (or a reason why none was possible) answers the person's red flags of that
    // kind raised up to its encounter; a decision alone answers none.
    let answered: Vec<(Uuid, Uuid, String)> = batches
        .iter()
        .flat_map(|b| &b.safety_assessments)
        .map(|a| (a.person_id, a.encounter_id, format!("%,{},%", a.flag)))
        .collect();
    for (person_id, encounter_id, flag) in answered {
        tx.execute(
            sql("DELETE FROM open_red_flags WHERE person_id = $1 AND encounter_at <= \
                 (SELECT MAX(encounter_at) FROM screenings WHERE encounter_id = $2) \
                 AND (',' || flags || ',') LIKE $3")
            .bind(person_id)
            .bind(encounter_id)
            .bind(flag),
        )
        .await?;
    }
    // What may have raised or answered a screening: its person's first unanswered one again.
    let touched: Vec<Uuid> = batches
        .iter()
        .flat_map(|b| {
            let screened =
                b.screenings.iter().filter(|s| s.outcome.positive == Some(true) || !s.outcome.flags.is_empty());
            let attended =
                b.referrals.iter().filter(|r| r.events.iter().any(|e| e.to_status == ReferralStatus::Attended));
            let done = b.follow_ups.iter().filter(|f| f.done_at.is_some());
            screened.map(|s| s.person_id).chain(attended.map(|r| r.person_id)).chain(done.map(|f| f.person_id))
        })
        .collect();
    crate::lost::refresh_unanswered(tx, &touched).await
}

/// Each encounter of the batches: its person, organisation, id and time, whether it asked about
/// self-harm and, if not, the clinician's reason.
type SelfHarmAsk<'a> = (Uuid, Uuid, Uuid, i64, bool, Option<&'a str>);

fn self_harm_asks<'a>(batches: &[&'a Batch]) -> Vec<SelfHarmAsk<'a>> {
    let mut out = Vec::new();
    for b in batches {
        for (encounter, screenings) in encounters_of(&b.screenings) {
            let first = screenings[0];
            let asked = hamroh_domain::safety::asked_about_self_harm(screenings.iter().copied());
            let reason = b.self_harm_not_asked.iter().find(|(e, _)| *e == encounter).map(|(_, r)| r.as_str());
            out.push((first.person_id, first.organisation_id, encounter, first.encounter_at, asked, reason));
        }
    }
    out
}

/// The rows every table takes from the batches (and an import's submission ids), in an order
/// that inserts every row after the rows it refers to.
fn table_rows<'a>(
    batches: &[&'a Batch],
    import: Option<&'a Import<'a>>,
    imported_by: Option<Uuid>,
) -> Vec<(&'static str, Vec<Vec<Value<'a>>>)> {
    let now = crate::now_millis();
    let mut out: Vec<(&'static str, Vec<Vec<Value<'a>>>)> = Vec::new();
    let mut table = |head: &'static str, rows: Vec<Vec<Value<'a>>>| out.push((head, rows));
    table(
        "INSERT INTO organisations (id, name, sector, district, uses_hamroh, created_at, name_lang, translations) ",
        batches
            .iter()
            .flat_map(|b| &b.organisations)
            .map(|o| {
                values![
                    o.id,
                    &o.name,
                    o.sector.as_str(),
                    o.district.map(|d| d.as_str()),
                    o.uses_hamroh,
                    now,
                    o.name_lang.as_str(),
                    crate::directory::translations_text(&o.translations)
                ]
            })
            .collect(),
    );
    let services = || batches.iter().flat_map(|b| &b.services);
    table(
        "INSERT INTO services (id, organisation_id, name, sector, service_type, response_days, \
         languages, cost, accessible, contact, opening_hours, created_at, description, text_lang, translations) ",
        services()
            .map(|s| {
                values![
                    s.id,
                    s.organisation_id,
                    &s.name,
                    s.sector.as_str(),
                    &s.service_type,
                    s.response_days,
                    crate::directory::language_list(&s.languages),
                    s.cost.as_str(),
                    s.accessible,
                    &s.contact,
                    &s.opening_hours,
                    now,
                    &s.description,
                    s.text_lang.as_str(),
                    crate::directory::translations_text(&s.translations)
                ]
            })
            .collect(),
    );
    table(
        "INSERT INTO service_districts (service_id, district) ",
        services().flat_map(|s| s.districts.iter().map(move |d| values![s.id, d.as_str()])).collect(),
    );
    let users = || batches.iter().flat_map(|b| &b.users);
    table(
        "INSERT INTO users (id, organisation_id, username, display_name, password_hash, lang, disabled, created_at) ",
        users()
            .map(|u| {
                values![
                    u.id,
                    u.organisation_id,
                    &u.username,
                    &u.display_name,
                    &u.password_hash,
                    u.lang.as_str(),
                    u.disabled,
                    now
                ]
            })
            .collect(),
    );
    table(
        "INSERT INTO user_roles (user_id, role) ",
        users().flat_map(|u| u.roles.iter().map(move |r| values![u.id, r.as_str()])).collect(),
    );
    let persons = || batches.iter().flat_map(|b| &b.persons);
    table(
        "INSERT INTO persons (id, code, organisation_id, sex, birth_year, region, district, \
         given_name, family_name, phone, created_at, created_by, updated_at, \
         family_key, family_consonants, given_key, given_consonants, period_month, destination, work_sector) ",
        persons()
            .map(|rec| {
                let p = &rec.person;
                let family = p.family_name.as_deref().map(hamroh_domain::names::keys);
                let given = p.given_name.as_deref().map(hamroh_domain::names::keys);
                // The last stay abroad gives the person's destination and work sector in indicators.
                let last = rec.episodes.iter().max_by_key(|e| e.year_from);
                values![
                    p.id,
                    &p.code,
                    p.organisation_id,
                    p.sex.as_str(),
                    i64::from(p.birth_year.get()),
                    p.district.region(),
                    p.district.as_str(),
                    &p.given_name,
                    &p.family_name,
                    p.phone.as_ref().map(|ph| ph.as_str().to_owned()),
                    p.created_at,
                    p.created_by,
                    p.created_at,
                    family.as_ref().map(|k| k.key.clone()),
                    family.map(|k| k.consonants),
                    given.as_ref().map(|k| k.key.clone()),
                    given.map(|k| k.consonants),
                    period_month(p.created_at),
                    last.map(|e| &e.destination_country),
                    last.map(|e| e.work_sector.as_str())
                ]
            })
            .collect(),
    );
    table(
        EPISODE_INSERT,
        persons().flat_map(|r| r.episodes.iter().map(move |e| episode_values(e, r.person.created_at))).collect(),
    );
    table(
        "INSERT INTO consents (id, person_id, scope, given, recorded_at, recorded_by, given_how) ",
        persons()
            .flat_map(|r| &r.consents)
            .map(|c| {
                values![
                    c.id,
                    c.person_id,
                    c.scope.to_string(),
                    c.given,
                    c.recorded_at,
                    c.recorded_by,
                    c.how.map(|h| h.as_str())
                ]
            })
            .collect(),
    );
    let screenings = || batches.iter().flat_map(|b| &b.screenings);
    table(
        "INSERT INTO screenings (id, person_id, organisation_id, user_id, encounter_at, period_month, \
         instrument, instrument_version, lang, answers, total, band, positive, flags, result, created_at, \
         encounter_id) ",
        screenings()
            .map(|s| {
                let o = &s.outcome;
                values![
                    s.id,
                    s.person_id,
                    s.organisation_id,
                    s.user_id,
                    s.encounter_at,
                    period_month(s.encounter_at),
                    &s.instrument,
                    &s.instrument_version,
                    s.lang.as_str(),
                    answers_text(&s.answers),
                    o.total,
                    &o.band,
                    o.positive,
                    o.flags.join(","),
                    o.result.to_string(),
                    now,
                    s.encounter_id
                ]
            })
            .collect(),
    );
    // A red flag waits for a decision on its encounter: the worklist reads these rows.
    table(
        "INSERT INTO open_red_flags (screening_id, organisation_id, encounter_id, encounter_at, person_id, \
         contact_today, flags) ",
        batches
            .iter()
            .flat_map(|b| b.screenings.iter().map(move |s| (b, s)))
            .filter(|(_, s)| !s.outcome.flags.is_empty())
            .map(|(b, s)| {
                let remote = b.remote_encounters.contains(&s.encounter_id);
                let flags = s.outcome.flags.join(",");
                values![s.id, s.organisation_id, s.encounter_id, s.encounter_at, s.person_id, remote, flags]
            })
            .collect(),
    );
    let referrals = || batches.iter().flat_map(|b| &b.referrals);
    table(
        "INSERT INTO referrals (id, code, person_id, from_organisation_id, from_user_id, service_id, \
         to_organisation_id, screening_id, reason, urgency, due_date, status, note, created_at, updated_at) ",
        referrals()
            .map(|r| {
                values![
                    r.id,
                    &r.code,
                    r.person_id,
                    r.from_organisation_id,
                    r.from_user_id,
                    r.service_id,
                    r.to_organisation_id,
                    r.screening_id,
                    &r.reason,
                    r.urgency.as_str(),
                    date_text(r.due_date),
                    r.status.as_str(),
                    &r.note,
                    r.created_at,
                    r.events.last().map_or(r.created_at, |e| e.at)
                ]
            })
            .collect(),
    );
    table(
        "INSERT INTO referral_events (referral_id, seq, from_status, to_status, at, by_user_id, reason, barrier, note) ",
        referrals()
            .flat_map(|r| {
                r.events.iter().enumerate().map(move |(seq, e)| {
                    values![
                        r.id,
                        seq as i64,
                        e.from_status.map(|s| s.as_str()),
                        e.to_status.as_str(),
                        e.at,
                        e.by_user_id,
                        &e.reason,
                        e.barrier.map(|b| b.as_str()),
                        &e.note
                    ]
                })
            })
            .collect(),
    );
    table(
        "INSERT INTO follow_ups (id, person_id, organisation_id, referral_id, kind, due_date, status, note, \
         created_at, created_by, done_at, done_by, source, encounter_id, outcome) ",
        batches
            .iter()
            .flat_map(|b| &b.follow_ups)
            .map(|f| {
                values![
                    f.id,
                    f.person_id,
                    f.organisation_id,
                    f.referral_id,
                    f.kind.as_str(),
                    date_text(f.due_date),
                    f.status.as_str(),
                    &f.note,
                    f.created_at,
                    f.created_by,
                    f.done_at,
                    f.done_at.and(f.created_by),
                    &f.source,
                    f.encounter_id,
                    &f.outcome
                ]
            })
            .collect(),
    );
    table(
        "INSERT INTO decisions (id, encounter_id, person_id, organisation_id, user_id, suggested, choice, \
         action, reason, at, amends) ",
        batches
            .iter()
            .flat_map(|b| &b.decisions)
            .map(|d| {
                values![
                    d.id,
                    d.encounter_id,
                    d.person_id,
                    d.organisation_id,
                    d.user_id,
                    d.suggested.join(","),
                    &d.choice,
                    &d.action,
                    &d.reason,
                    d.at,
                    d.amends
                ]
            })
            .collect(),
    );
    table(
        "INSERT INTO safety_assessments (id, encounter_id, person_id, organisation_id, flag, outcome, thoughts, \
         plan, act_past_year, imminent_risk, means_counselled, safety_plan, action, not_possible, attempts, \
         note, user_id, at) ",
        batches
            .iter()
            .flat_map(|b| &b.safety_assessments)
            .map(|a| {
                let c = SafetyColumns::of(a);
                let x = c.answers;
                values![
                    a.id,
                    a.encounter_id,
                    a.person_id,
                    a.organisation_id,
                    &a.flag,
                    c.outcome,
                    x.map(|x| x.0),
                    x.map(|x| x.1),
                    x.map(|x| x.2),
                    x.map(|x| x.3),
                    x.map(|x| x.4),
                    c.safety_plan,
                    c.action,
                    c.not_possible,
                    c.attempts,
                    c.note,
                    a.user_id,
                    a.at
                ]
            })
            .collect(),
    );
    if let Some(i) = import {
        table(
            "INSERT INTO imported_submissions (source, submission_id, digest, person_id, encounter_id, \
             imported_at, imported_by) ",
            i.submissions
                .iter()
                .map(|sub| {
                    values![
                        i.source,
                        &sub.submission_id,
                        &sub.digest,
                        sub.person_id,
                        sub.encounter_id,
                        now,
                        imported_by
                    ]
                })
                .collect(),
        );
    }
    out
}

/// A stay abroad as the person page lists it: country, years from and to, work sector, return
/// date, injury cause and body part (codes as stored).
/// One consent decision as the person page lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsentDecision {
    pub scope: String,
    pub given: bool,
    /// `verbal` or `written`, where the recorder said.
    pub given_how: Option<String>,
    pub recorded_at: i64,
    /// The recorder's name.
    pub recorded_by: Option<String>,
}

pub type EpisodeLine = (Uuid, String, i64, Option<i64>, String, Option<String>, Option<String>, Option<String>);

/// A batch's screenings by encounter, in the order the encounters first appear.
fn encounters_of(screenings: &[hamroh_domain::model::Screening]) -> Vec<(Uuid, Vec<&hamroh_domain::model::Screening>)> {
    let mut out: Vec<(Uuid, Vec<&hamroh_domain::model::Screening>)> = Vec::new();
    let mut at: std::collections::HashMap<Uuid, usize> = std::collections::HashMap::new();
    for s in screenings {
        let n = *at.entry(s.encounter_id).or_insert_with(|| {
            out.push((s.encounter_id, Vec::new()));
            out.len() - 1
        });
        out[n].1.push(s);
    }
    out
}

impl Store {
    /// Stores every record of `batch`, and one audit event per record, in one transaction.
    pub async fn insert_batch(&self, actor: &Actor, batch: &Batch) -> Result<()> {
        self.insert_batch_with_outbox(actor, batch, &[]).await
    }

    /// Like [`Store::insert_batch`], with messages to deliver, in the same transaction.
    pub async fn insert_batch_with_outbox(
        &self,
        actor: &Actor,
        batch: &Batch,
        messages: &[crate::outbox::OutboxMessage],
    ) -> Result<()> {
        self.insert_batch_with_outbox_and_events(actor, batch, messages, &[]).await
    }

    /// [`Store::insert_batch_with_outbox`], with audit events of their own (the reads that led to
    /// the write) in the same commit.
    pub async fn insert_batch_with_outbox_and_events(
        &self,
        actor: &Actor,
        batch: &Batch,
        messages: &[crate::outbox::OutboxMessage],
        events: &[NewAuditEvent],
    ) -> Result<()> {
        match &self.group {
            Some(group) if !batch.is_empty() => group.write(actor, batch, messages, events).await,
            _ if batch.is_empty() => self.audit(actor, events).await,
            _ => self.write_batch(actor, batch, messages, events, None).await,
        }
    }

    /// One waiting write in its own transaction (the group writer's fallback); the rows its key
    /// step changed.
    pub(crate) async fn write_pending_alone(&self, p: &crate::group_commit::Pending) -> Result<u64> {
        if let Some(step) = &p.key_step {
            let mut tx = self.begin_write().await?;
            let changed = crate::idempotency::key_step(&mut tx, step).await?;
            tx.commit().await?;
            return Ok(changed);
        }
        if p.batch.is_empty() {
            return self.audit_alone(&p.actor, &p.events).await.map(|()| 0);
        }
        self.write_batch(&p.actor, &p.batch, &p.messages, &p.events, None).await.map(|()| 0)
    }

    /// Stores the records of imported submissions and remembers each submission, with the
    /// messages (the red-flag alerts) to deliver, in one transaction: all or nothing, and a submission already imported from `source` makes the
    /// whole import fail rather than be stored twice. `detail` describes the import in the audit
    /// trail (file digest, counts; never personal data).
    pub async fn insert_imported(
        &self,
        actor: &Actor,
        batch: &Batch,
        source: &str,
        submissions: &[ImportedSubmission],
        detail: String,
        messages: &[crate::outbox::OutboxMessage],
    ) -> Result<()> {
        self.write_batch(actor, batch, messages, &[], Some(Import { source, submissions, detail })).await
    }

    /// The digest each of `source`'s submissions was imported with.
    pub async fn imported_submissions(&self, source: &str) -> Result<std::collections::HashMap<String, String>> {
        let rows: Vec<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT submission_id, digest FROM imported_submissions WHERE source = $1")
                .bind(source)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().collect())
    }

    /// The digest each of `ids` (submission ids of `source`) was imported with, for those imported
    /// before: an import asks for the rows it reads, never for the whole source.
    pub async fn imported_digests(
        &self,
        source: &str,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(String, String)> = with_pool!(self, pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT submission_id, digest FROM imported_submissions WHERE source = ");
                q.push_bind(source);
                q.push(" AND submission_id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(id);
                }
                q.push(")");
                q.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Which of `codes` are registered persons' codes.
    pub async fn codes_taken(&self, codes: &[String]) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in codes.chunks(500) {
            let taken: Vec<String> = with_pool!(self, pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT code FROM persons WHERE code IN (");
                let mut list = q.separated(", ");
                for c in chunk {
                    list.push_bind(c);
                }
                q.push(")");
                q.build_query_scalar().fetch_all(pool).await?
            });
            out.extend(taken);
        }
        Ok(out)
    }

    /// Registered persons by their codes (`HM-XXXX-XXXX`); unknown codes are left out.
    pub async fn persons_by_code(&self, codes: &[String]) -> Result<Vec<Person>> {
        let mut out = Vec::new();
        for chunk in codes.chunks(500) {
            let ids: Vec<Uuid> = with_pool!(self, pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT id FROM persons WHERE code IN (");
                let mut list = q.separated(", ");
                for c in chunk {
                    list.push_bind(c);
                }
                q.push(")");
                q.build_query_scalar().fetch_all(pool).await?
            });
            for id in ids {
                out.extend(self.person(id).await?);
            }
        }
        Ok(out)
    }

    async fn write_batch(
        &self,
        actor: &Actor,
        batch: &Batch,
        messages: &[crate::outbox::OutboxMessage],
        events: &[NewAuditEvent],
        import: Option<Import<'_>>,
    ) -> Result<()> {
        if batch.is_empty() && import.is_none() {
            return Ok(());
        }
        let parts = [Part { actor, batch, messages, events }];
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        let mut inc = Increments::default();
        write_in_tx(&mut tx, &parts, import.as_ref(), &mut inc, Derived::Now).await?;
        crate::cube::flush(&mut tx, &inc).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores several batches and key steps in one transaction (group commit): one fsync for all
    /// of them, and one statement per table for all the batches. Returns the rows each key step
    /// changed (0 for a batch), in order.
    pub(crate) async fn write_group(&self, items: &[crate::group_commit::Pending]) -> Result<Vec<u64>> {
        let parts: Vec<Part<'_>> = items
            .iter()
            .map(|p| Part { actor: &p.actor, batch: &p.batch, messages: &p.messages, events: &p.events })
            .collect();
        // Each keyed request once (one statement may not touch a row twice).
        let mut keys: Vec<&crate::idempotency::KeyedRequest> = items.iter().filter_map(|p| p.key.as_ref()).collect();
        keys.sort_by(|a, b| (&a.caller, &a.key).cmp(&(&b.caller, &b.key)));
        keys.dedup_by(|a, b| (&a.caller, &a.key) == (&b.caller, &b.key));
        let mut tx = self.begin_write().await?;
        let mut changed = Vec::with_capacity(items.len());
        for p in items {
            changed.push(match &p.key_step {
                Some(step) => crate::idempotency::key_step(&mut tx, step).await?,
                None => 0,
            });
        }
        // The cube's counts of every batch are added up and written once.
        let mut inc = Increments::default();
        write_in_tx(&mut tx, &parts, None, &mut inc, Derived::Now).await?;
        crate::idempotency::mark_written(&mut tx, &keys).await?;
        crate::cube::flush(&mut tx, &inc).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Records one consent decision (given or withdrawn), audited.
    pub async fn insert_consent(&self, actor: &Actor, c: &hamroh_domain::model::ConsentRecord) -> Result<()> {
        let mut event = NewAuditEvent::ok(if c.given { "consent_given" } else { "consent_withdrawn" }, "consent", c.id);
        event.detail = Some(c.scope.to_string());
        let event = event.person(c.person_id);
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        tx.execute(
            sql("INSERT INTO consents (id, person_id, scope, given, recorded_at, recorded_by, given_how) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(c.id)
            .bind(c.person_id)
            .bind(c.scope.to_string())
            .bind(c.given)
            .bind(c.recorded_at)
            .bind(c.recorded_by)
            .bind(c.how.map(|h| h.as_str())),
        )
        .await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A person's consent decisions, the latest first, with who recorded each (by name); callers
    /// that show them record the read.
    pub async fn consent_decisions(&self, person_id: Uuid) -> Result<Vec<ConsentDecision>> {
        self.fetch_all(
            sql("SELECT c.scope, c.given, c.given_how, c.recorded_at, u.display_name AS recorded_by FROM consents c \
                 LEFT JOIN users u ON u.id = c.recorded_by WHERE c.person_id = $1 ORDER BY c.recorded_at DESC")
            .bind(person_id),
        )
        .await
    }

    /// How many records of each kind the database holds.
    pub async fn counts(&self) -> Result<Counts> {
        let sql = "SELECT \
            (SELECT COUNT(*) FROM organisations), (SELECT COUNT(*) FROM users), \
            (SELECT COUNT(*) FROM persons), (SELECT COUNT(*) FROM screenings), \
            (SELECT COUNT(*) FROM referrals), (SELECT COUNT(*) FROM follow_ups), \
            (SELECT COUNT(*) FROM audit_events)";
        let row: (i64, i64, i64, i64, i64, i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(sql).fetch_one(pool).await?
        });
        Ok(Counts {
            organisations: row.0,
            users: row.1,
            persons: row.2,
            screenings: row.3,
            referrals: row.4,
            follow_ups: row.5,
            audit_events: row.6,
        })
    }

    /// One person as stored, without audit: callers that show it to a user record the read.
    pub async fn person(&self, id: Uuid) -> Result<Option<Person>> {
        let row: Option<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, code, organisation_id, sex, birth_year, district, given_name, family_name, phone, \
                 created_at, created_by FROM persons WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(PersonRow::into_person).transpose()
    }

    /// A person's stays abroad, the latest first: (id, country, from, to, work sector, return date,
    /// injury cause, injured body part), codes as stored.
    pub async fn episodes_of(&self, person_id: Uuid) -> Result<Vec<EpisodeLine>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, destination_country, year_from, year_to, work_sector, return_date, injury_cause, \
                 injury_body_part FROM migration_episodes WHERE person_id = $1 ORDER BY year_from DESC, created_at DESC",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// What the care-pathway rules may use of a person's stays abroad: whether a work injury is
    /// recorded, and why each stay ended.
    pub async fn circumstances_of(&self, person_id: Uuid) -> Result<hamroh_domain::pathway::Circumstances> {
        let rows: Vec<(Option<String>, bool)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT return_reason, injury_cause IS NOT NULL FROM migration_episodes WHERE person_id = $1",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        });
        let mut returned_after = Vec::new();
        for reason in rows.iter().filter_map(|(r, _)| r.as_deref()) {
            let reason = reason.parse().map_err(|_| StoreError::Corrupt(format!("return reason `{reason}`")))?;
            if !returned_after.contains(&reason) {
                returned_after.push(reason);
            }
        }
        Ok(hamroh_domain::pathway::Circumstances { work_injury: rows.iter().any(|(_, i)| *i), returned_after })
    }

    /// A person's screenings, oldest first.
    pub async fn screenings_of(&self, person_id: Uuid) -> Result<Vec<Screening>> {
        let rows: Vec<ScreeningRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, encounter_id, person_id, organisation_id, user_id, encounter_at, instrument, \
                 instrument_version, lang, answers, total, band, positive, flags, result FROM screenings \
                 WHERE person_id = $1 ORDER BY encounter_at, id",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ScreeningRow::into_screening).collect()
    }

    /// A referral's state history: (from, to) pairs in order.
    pub async fn referral_history(&self, referral_id: Uuid) -> Result<Vec<(Option<String>, String)>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT from_status, to_status FROM referral_events WHERE referral_id = $1 ORDER BY seq",
            )
            .bind(referral_id)
            .fetch_all(pool)
            .await?
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub organisations: i64,
    pub users: i64,
    pub persons: i64,
    pub screenings: i64,
    pub referrals: i64,
    pub follow_ups: i64,
    pub audit_events: i64,
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: Uuid,
    code: String,
    organisation_id: Uuid,
    sex: String,
    birth_year: i64,
    district: String,
    given_name: Option<String>,
    family_name: Option<String>,
    phone: Option<String>,
    created_at: i64,
    created_by: Option<Uuid>,
}

impl PersonRow {
    fn into_person(self) -> Result<Person> {
        let year = i32::try_from(self.birth_year).map_err(|_| StoreError::Corrupt("birth year".into()))?;
        Ok(Person {
            id: self.id,
            code: self.code,
            organisation_id: self.organisation_id,
            sex: self.sex.parse()?,
            // Stored years were checked when written; re-check only that they are plausible.
            birth_year: BirthYear::new(year, year + 10)?,
            district: DistrictCode::parse(&self.district)?,
            given_name: self.given_name,
            family_name: self.family_name,
            phone: self.phone.as_deref().map(Phone::parse).transpose()?,
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ScreeningRow {
    id: Uuid,
    encounter_id: Option<Uuid>,
    person_id: Uuid,
    organisation_id: Uuid,
    user_id: Option<Uuid>,
    encounter_at: i64,
    instrument: String,
    instrument_version: String,
    lang: String,
    answers: String,
    total: Option<i64>,
    band: Option<String>,
    positive: Option<bool>,
    flags: String,
    result: String,
}

impl ScreeningRow {
    fn into_screening(self) -> Result<Screening> {
        Ok(Screening {
            id: self.id,
            // Screenings stored before encounters existed form an encounter of their own.
            encounter_id: self.encounter_id.unwrap_or(self.id),
            person_id: self.person_id,
            organisation_id: self.organisation_id,
            user_id: self.user_id,
            encounter_at: self.encounter_at,
            instrument: self.instrument,
            instrument_version: self.instrument_version,
            lang: self.lang.parse()?,
            answers: parse_answers(&self.answers)?,
            outcome: hamroh_domain::model::ScreeningOutcome {
                total: self.total,
                band: self.band,
                positive: self.positive,
                flags: self.flags.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
                result: serde_json::from_str(&self.result).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            },
        })
    }
}
