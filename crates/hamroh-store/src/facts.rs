//! The facts that indicators are computed from: counts grouped by month and by everything an
//! indicator may be broken down by. No fact names a person; the analytics crate turns them into
//! disclosure-controlled tables.

use hamroh_domain::model::period_month;
use serde::Serialize;

use crate::exec::{Reader, Sql, sql};
use crate::{Result, Store};

/// What a fact counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Measure {
    /// Persons registered (month of registration).
    Registered,
    /// Instrument administrations; `category` is the instrument id.
    Screened,
    /// Positive administrations; `category` is the instrument id.
    Positive,
    /// Administrations with a self-harm red flag; `category` is the instrument id.
    SelfHarm,
    /// WG-SS administrations; `category` is the answers as stored, for the analytics crate to read.
    WgssAnswers,
    /// Stays abroad with a work injury (month of the person's registration); `category` is the cause.
    Injury,
    /// Referrals sent (month sent); `category` is the receiving sector.
    ReferralSent,
    /// Referrals sent in the month that were ever accepted.
    ReferralAccepted,
    /// Referrals sent in the month that were ever attended; `value` is the days from sending to attendance.
    ReferralAttended,
    /// Barriers recorded with a decline, no-show or cancellation (month recorded); `category` is the barrier.
    Barrier,
    /// Persons lost to follow-up (month of the first positive screen or red flag left without an
    /// attended referral or completed follow-up).
    Lost,
}

impl Measure {
    pub const ALL: [Measure; 11] = [
        Measure::Registered,
        Measure::Screened,
        Measure::Positive,
        Measure::SelfHarm,
        Measure::WgssAnswers,
        Measure::Injury,
        Measure::ReferralSent,
        Measure::ReferralAccepted,
        Measure::ReferralAttended,
        Measure::Barrier,
        Measure::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Registered => "registered",
            Measure::Screened => "screened",
            Measure::Positive => "positive",
            Measure::SelfHarm => "self_harm",
            Measure::WgssAnswers => "wgss_answers",
            Measure::Injury => "injury",
            Measure::ReferralSent => "referral_sent",
            Measure::ReferralAccepted => "referral_accepted",
            Measure::ReferralAttended => "referral_attended",
            Measure::Barrier => "barrier",
            Measure::Lost => "lost",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == code)
    }
}

/// A count of records that share a month and every breakdown value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub measure: Measure,
    /// `YYYYMM`, Dushanbe time.
    pub month: i64,
    pub district: String,
    pub sex: String,
    pub birth_year: i64,
    pub destination: Option<String>,
    pub work_sector: Option<String>,
    pub category: Option<String>,
    /// A per-record number (days to attendance), when the measure has one.
    pub value: Option<i64>,
    pub n: i64,
}

type Grouped = (i64, String, String, i64, Option<String>, Option<String>, Option<String>, i64);

const PERSON_DIMS: &str = "p.district, p.sex, p.birth_year, p.destination, p.work_sector";

fn fact(measure: Measure, row: Grouped) -> Fact {
    let (month, district, sex, birth_year, destination, work_sector, category, n) = row;
    Fact { measure, month, district, sex, birth_year, destination, work_sector, category, value: None, n }
}

/// Milliseconds at the start of a `YYYYMM` month in Dushanbe (UTC+5).
pub fn month_start_ms(month: i64) -> i64 {
    let date = jiff::civil::date((month / 100) as i16, (month % 100) as i8, 1);
    date.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).map(|z| z.timestamp().as_millisecond()).unwrap_or(0)
}

/// The month after a `YYYYMM` month.
pub fn next_month(month: i64) -> i64 {
    if month % 100 == 12 { (month / 100 + 1) * 100 + 1 } else { month + 1 }
}

impl Store {
    /// Every fact for the months `from..=to` (`YYYYMM`). `lost_cutoff` is the time before which an
    /// unanswered positive screen counts as lost to follow-up.
    pub async fn facts(&self, from: i64, to: i64, lost_cutoff: i64) -> Result<Vec<Fact>> {
        let mut facts = counted_facts(&mut Reader::Pool(self), FactScope::Months(from, to)).await?;
        facts.extend(self.lost_facts(from, to, lost_cutoff).await?);
        Ok(facts)
    }

    /// Persons lost to follow-up with an unanswered positive screen or red flag in the months
    /// `from..=to` and before `lost_cutoff`, each once, in the month of the first such screen.
    /// Depends on the time of asking, so it is read live. A person's unanswered screens are the
    /// positive ones from `unanswered.since` on (every answer came before it), so only persons
    /// waiting since before the period's end are looked at.
    pub async fn lost_facts(&self, from: i64, to: i64, lost_cutoff: i64) -> Result<Vec<Fact>> {
        let lo = month_start_ms(from);
        let hi = month_start_ms(next_month(to));
        let mut facts = Vec::new();
        let sql = format!(
            "SELECT w.at, {PERSON_DIMS} FROM (SELECT u.person_id AS id, MIN(s.encounter_at) AS at \
             FROM unanswered u JOIN screenings s ON s.person_id = u.person_id \
             WHERE u.since < $1 AND u.since < $3 AND (s.positive = TRUE OR s.flags <> '') \
             AND s.encounter_at >= u.since AND s.encounter_at < $1 AND s.encounter_at >= $2 AND s.encounter_at < $3 \
             GROUP BY u.person_id) w JOIN persons p ON p.id = w.id"
        );
        type LostRow = (i64, String, String, i64, Option<String>, Option<String>);
        let rows: Vec<LostRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(lost_cutoff).bind(lo).bind(hi).fetch_all(pool).await?
        });
        for (at, district, sex, birth_year, destination, work_sector) in rows {
            facts.push(fact(
                Measure::Lost,
                (period_month(at), district, sex, birth_year, destination, work_sector, None, 1),
            ));
        }
        Ok(facts)
    }
}

/// One consenting person, as a research file may describe them before generalisation. The id is
/// for joining only and never leaves the analytics crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResearchRecord {
    pub person_id: uuid::Uuid,
    pub birth_year: i64,
    pub sex: String,
    pub district: String,
    pub destination: Option<String>,
    pub registered_month: i64,
    /// Instrument id → (ever positive, ever raised the self-harm flag).
    pub screenings: std::collections::BTreeMap<String, (bool, bool)>,
    pub work_injury: bool,
    pub referral_attended: bool,
}

/// Persons whose latest research consent is given.
const RESEARCH_CONSENT: &str = "(SELECT c.given FROM consents c WHERE c.person_id = p.id AND c.scope = 'research' \
    ORDER BY c.recorded_at DESC LIMIT 1) = TRUE";

impl Store {
    /// Every person whose consent to research is in force, with what a research file may say of
    /// them. Audited as one `export` event with the number of records (no person is named).
    pub async fn research_records(&self, actor: &crate::audit::Actor) -> Result<Vec<ResearchRecord>> {
        type PersonRow = (uuid::Uuid, i64, String, String, Option<String>, i64);
        let sql = format!(
            "SELECT p.id, p.birth_year, p.sex, p.district, p.destination, p.period_month FROM persons p \
             WHERE {RESEARCH_CONSENT} ORDER BY p.id"
        );
        let persons: Vec<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await?
        });
        let sql = format!(
            "SELECT s.person_id, s.instrument, MAX(CASE WHEN s.positive = TRUE THEN 1 ELSE 0 END), \
             MAX(CASE WHEN s.flags LIKE '%self_harm%' THEN 1 ELSE 0 END) FROM screenings s \
             JOIN persons p ON p.id = s.person_id WHERE {RESEARCH_CONSENT} GROUP BY s.person_id, s.instrument"
        );
        let screenings: Vec<(uuid::Uuid, String, i32, i32)> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await?
        });
        let sql = format!(
            "SELECT DISTINCT e.person_id FROM migration_episodes e JOIN persons p ON p.id = e.person_id \
             WHERE e.injury = TRUE AND {RESEARCH_CONSENT}"
        );
        let injured: Vec<(uuid::Uuid,)> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await?
        });
        let sql = format!(
            "SELECT DISTINCT r.person_id FROM referrals r JOIN referral_events e ON e.referral_id = r.id \
             JOIN persons p ON p.id = r.person_id WHERE e.to_status = 'attended' AND {RESEARCH_CONSENT}"
        );
        let attended: Vec<(uuid::Uuid,)> = with_pool!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await?
        });
        let injured: std::collections::HashSet<uuid::Uuid> = injured.into_iter().map(|r| r.0).collect();
        let attended: std::collections::HashSet<uuid::Uuid> = attended.into_iter().map(|r| r.0).collect();
        let mut by_person: std::collections::HashMap<uuid::Uuid, std::collections::BTreeMap<String, (bool, bool)>> =
            std::collections::HashMap::new();
        for (person, instrument, positive, self_harm) in screenings {
            by_person.entry(person).or_default().insert(instrument, (positive == 1, self_harm == 1));
        }
        let records: Vec<ResearchRecord> = persons
            .into_iter()
            .map(|(id, birth_year, sex, district, destination, registered_month)| ResearchRecord {
                person_id: id,
                birth_year,
                sex,
                district,
                destination,
                registered_month,
                screenings: by_person.remove(&id).unwrap_or_default(),
                work_injury: injured.contains(&id),
                referral_attended: attended.contains(&id),
            })
            .collect();
        let mut event = crate::audit::NewAuditEvent::ok("export", "research_file", "microdata");
        event.detail = Some(format!("records={}", records.len()));
        self.audit(actor, &[event]).await?;
        Ok(records)
    }
}

/// A person's record as an export carries it.
pub type PersonExport =
    (hamroh_domain::model::Person, Vec<hamroh_domain::model::Screening>, Vec<hamroh_domain::model::Referral>);

impl Store {
    /// Persons whose record changed at or after `since` (registration, a screening, a referral or
    /// one of its steps), oldest change first.
    pub async fn persons_changed_since(&self, since: i64) -> Result<Vec<uuid::Uuid>> {
        let rows: Vec<(uuid::Uuid,)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id FROM (SELECT id AS id FROM persons WHERE updated_at >= $1 \
                 UNION SELECT person_id FROM screenings WHERE created_at >= $1 \
                 UNION SELECT person_id FROM referrals WHERE updated_at >= $1) changed ORDER BY id",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The records of these persons for an export, each export audited against the person.
    pub async fn export_records(&self, actor: &crate::audit::Actor, ids: &[uuid::Uuid]) -> Result<Vec<PersonExport>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut events = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(person) = self.person(*id).await? else { continue };
            let screenings = self.screenings_of(*id).await?;
            let referrals = self.referrals_with_steps(*id).await?;
            let mut event = crate::audit::NewAuditEvent::ok("export", "person", id).person(*id);
            event.detail = Some("fhir".into());
            events.push(event);
            out.push((person, screenings, referrals));
        }
        self.audit(actor, &events).await?;
        Ok(out)
    }
}

/// What a recount covers: the months `from..=to`, or every record of one person.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FactScope {
    Months(i64, i64),
    Person(uuid::Uuid),
}

impl FactScope {
    /// The condition on `column` (a `YYYYMM` month, or with `millis` a time in milliseconds);
    /// a person's records are those joined to `p`.
    fn on(&self, column: &str, millis: bool) -> String {
        match self {
            FactScope::Months(..) if millis => format!("{column} >= $1 AND {column} < $2"),
            FactScope::Months(..) => format!("{column} BETWEEN $1 AND $2"),
            FactScope::Person(_) => "p.id = $1".to_owned(),
        }
    }

    /// Binds the values of [`FactScope::on`]'s condition.
    fn bind<'a>(&self, s: Sql<'a>, millis: bool) -> Sql<'a> {
        match *self {
            FactScope::Months(from, to) if millis => s.bind(month_start_ms(from)).bind(month_start_ms(next_month(to))),
            FactScope::Months(from, to) => s.bind(from).bind(to),
            FactScope::Person(id) => s.bind(id),
        }
    }
}

/// The facts the cube keeps (all but the lost, which depend on the time of asking), over `scope`.
pub(crate) async fn counted_facts(reader: &mut Reader<'_>, scope: FactScope) -> Result<Vec<Fact>> {
    let mut facts = Vec::new();

    let text = format!(
        "SELECT p.period_month, {PERSON_DIMS}, NULL, COUNT(*) FROM persons p \
         WHERE {} GROUP BY p.period_month, {PERSON_DIMS}",
        scope.on("p.period_month", false)
    );
    let rows: Vec<Grouped> = reader.fetch_all(scope.bind(sql(sqlx::AssertSqlSafe(text)), false)).await?;
    facts.extend(rows.into_iter().map(|r| fact(Measure::Registered, r)));

    let text = format!(
        "SELECT s.period_month, {PERSON_DIMS}, s.instrument, \
         CASE WHEN s.positive = TRUE THEN 1 ELSE 0 END, \
         CASE WHEN s.flags LIKE '%self_harm%' THEN 1 ELSE 0 END, \
         CASE WHEN s.instrument = 'wgss' THEN s.answers ELSE NULL END, COUNT(*) \
         FROM screenings s JOIN persons p ON p.id = s.person_id WHERE {} \
         GROUP BY s.period_month, {PERSON_DIMS}, s.instrument, \
         CASE WHEN s.positive = TRUE THEN 1 ELSE 0 END, CASE WHEN s.flags LIKE '%self_harm%' THEN 1 ELSE 0 END, \
         CASE WHEN s.instrument = 'wgss' THEN s.answers ELSE NULL END",
        scope.on("s.period_month", false)
    );
    type ScreeningRow =
        (i64, String, String, i64, Option<String>, Option<String>, String, i32, i32, Option<String>, i64);
    let rows: Vec<ScreeningRow> = reader.fetch_all(scope.bind(sql(sqlx::AssertSqlSafe(text)), false)).await?;
    for (month, district, sex, birth_year, destination, work_sector, instrument, positive, self_harm, wgss, n) in rows {
        let base =
            fact(Measure::Screened, (month, district, sex, birth_year, destination, work_sector, Some(instrument), n));
        if positive == 1 {
            facts.push(Fact { measure: Measure::Positive, ..base.clone() });
        }
        if self_harm == 1 {
            facts.push(Fact { measure: Measure::SelfHarm, ..base.clone() });
        }
        if let Some(answers) = wgss {
            facts.push(Fact { measure: Measure::WgssAnswers, category: Some(answers), ..base.clone() });
        }
        facts.push(base);
    }

    let text = format!(
        "SELECT p.period_month, p.district, p.sex, p.birth_year, e.destination_country, e.work_sector, \
         e.injury_cause, COUNT(*) FROM migration_episodes e JOIN persons p ON p.id = e.person_id \
         WHERE e.injury = TRUE AND {} \
         GROUP BY p.period_month, p.district, p.sex, p.birth_year, e.destination_country, e.work_sector, \
         e.injury_cause",
        scope.on("p.period_month", false)
    );
    let rows: Vec<Grouped> = reader.fetch_all(scope.bind(sql(sqlx::AssertSqlSafe(text)), false)).await?;
    facts.extend(rows.into_iter().map(|r| fact(Measure::Injury, r)));

    let text = format!(
        "SELECT r.created_at, {PERSON_DIMS}, sv.sector, \
         (SELECT MIN(e.at) FROM referral_events e WHERE e.referral_id = r.id AND e.to_status = 'accepted'), \
         (SELECT MIN(e.at) FROM referral_events e WHERE e.referral_id = r.id AND e.to_status = 'attended') \
         FROM referrals r JOIN persons p ON p.id = r.person_id JOIN services sv ON sv.id = r.service_id \
         WHERE {}",
        scope.on("r.created_at", true)
    );
    type ReferralRow = (i64, String, String, i64, Option<String>, Option<String>, String, Option<i64>, Option<i64>);
    let rows: Vec<ReferralRow> = reader.fetch_all(scope.bind(sql(sqlx::AssertSqlSafe(text)), true)).await?;
    for (at, district, sex, birth_year, destination, work_sector, sector, accepted, attended) in rows {
        let base = Fact {
            measure: Measure::ReferralSent,
            month: period_month(at),
            district,
            sex,
            birth_year,
            destination,
            work_sector,
            category: Some(sector),
            value: None,
            n: 1,
        };
        if accepted.is_some() {
            facts.push(Fact { measure: Measure::ReferralAccepted, ..base.clone() });
        }
        if let Some(attended) = attended {
            let days = (attended - at).max(0) / 86_400_000;
            facts.push(Fact { measure: Measure::ReferralAttended, value: Some(days), ..base.clone() });
        }
        facts.push(base);
    }

    let text = format!(
        "SELECT e.at, {PERSON_DIMS}, e.barrier FROM referral_events e \
         JOIN referrals r ON r.id = e.referral_id JOIN persons p ON p.id = r.person_id \
         WHERE e.barrier IS NOT NULL AND {}",
        scope.on("e.at", true)
    );
    type BarrierRow = (i64, String, String, i64, Option<String>, Option<String>, String);
    let rows: Vec<BarrierRow> = reader.fetch_all(scope.bind(sql(sqlx::AssertSqlSafe(text)), true)).await?;
    for (at, district, sex, birth_year, destination, work_sector, barrier) in rows {
        facts.push(fact(
            Measure::Barrier,
            (period_month(at), district, sex, birth_year, destination, work_sector, Some(barrier), 1),
        ));
    }

    Ok(facts)
}
