//! The clinician's reads: finding people, an encounter's screenings and decision, a person's
//! follow-ups and referrals, and the red flags still waiting for an action. Person-level access is
//! the gate's business; these functions only fetch.

use hamroh_domain::model::{Decision, FollowUp, SafetyAssessment, Screening};
use hamroh_domain::names::Query;
use hamroh_domain::referral::{FollowUpKind, FollowUpStatus, ReferralStatus, Urgency};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::{Actor, NewAuditEvent};
use crate::exec::sql;
use crate::referrals::{Listing, WORKLIST_ROWS};
use crate::{Result, Store, StoreError};

/// The columns [`FollowUpRow`] reads, in its order.
macro_rules! follow_up_columns {
    () => {
        "id, person_id, organisation_id, referral_id, kind, due_date, status, note, created_at, created_by, done_at, \
         source, encounter_id, outcome"
    };
}

/// One line of a search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PersonSummary {
    pub id: Uuid,
    pub code: String,
    pub organisation_id: Uuid,
    pub sex: String,
    pub birth_year: i64,
    pub district: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Whether consent to care is in force (the person's row keeps the latest care decision of
    /// the consent ledger, migration 0018): enough to decide access for the registering
    /// organisation. Not shown.
    #[serde(skip)]
    pub care_consent: bool,
}

/// A referral as a person's timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferralLine {
    pub id: Uuid,
    pub code: String,
    pub service_name: String,
    pub organisation_name: String,
    pub reason: String,
    pub urgency: Urgency,
    pub status: ReferralStatus,
    pub due_date: String,
    pub created_at: i64,
}

/// An encounter with a red flag and no recorded decision: urgent work for the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrgentItem {
    /// The person's latest flagged encounter still waiting for its assessment.
    pub encounter_id: Uuid,
    pub person_id: Uuid,
    pub person_code: String,
    /// When the person's first waiting flag was raised.
    pub at: i64,
    /// Every waiting flag of the person, each once (comma-separated).
    pub flags: String,
    /// How many of the person's encounters wait.
    pub encounters: usize,
    /// A flag arrived without a face-to-face visit: contact the person today.
    pub contact_today: bool,
    /// Not assessed within the deployment's limit: escalated to the coordinators.
    pub escalated: bool,
    /// The organisation the flag waits at (for a coordinator, whom to call).
    pub organisation_id: Uuid,
    pub organisation: String,
}

const SUMMARY: &str =
    "p.id, p.code, p.organisation_id, p.sex, p.birth_year, p.district, p.given_name, p.family_name, p.care_consent";

/// The first `{limit}` persons in name order registered by the organisation (`$1`) that meet
/// `{cond}` and the index term `{term}` (read in order from an index that ends in the name).
const REGISTERED: &str = "SELECT * FROM (SELECT {SUMMARY} FROM persons p WHERE p.organisation_id = $1 AND {term} \
    AND {cond} ORDER BY p.family_name, p.given_name, p.code LIMIT {limit}) AS {alias}";

/// The first `{limit}` persons in name order with an open referral to the organisation that meet
/// `{cond}`.
const REFERRED: &str = concat!(
    "SELECT * FROM (SELECT {SUMMARY} FROM referrals r JOIN persons p ON p.id = r.person_id \
     WHERE r.to_organisation_id = $1 AND r.status IN ",
    open_referral_statuses!(),
    " AND {cond} ORDER BY p.family_name, p.given_name, p.code LIMIT {limit}) AS referred"
);

impl Store {
    /// Persons that an organisation can reach and that match the query, at most `limit`.
    pub async fn search_candidates(
        &self,
        organisation_id: Uuid,
        query: &Query,
        limit: i64,
    ) -> Result<Vec<PersonSummary>> {
        // Only the number of placeholders depends on the query; every value is bound.
        let mut cond = String::new();
        // The terms that find the registered persons: one select each, so that each is a lookup in
        // an (organisation, term) index whatever the planner knows; an OR of them, or of the
        // registered and the referred, lets a planner without statistics scan the organisation.
        let mut terms: Vec<String> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut year: Option<i64> = None;
        match query {
            Query::Code(code) => {
                cond.push_str("p.code = $2");
                texts.push(code.clone());
            }
            Query::Phone(digits) => {
                cond.push_str("REPLACE(p.phone, '+', '') = $2");
                texts.push(digits.clone());
            }
            Query::BirthYear(y) => {
                cond.push_str("p.birth_year = $2");
                year = Some(i64::from(*y));
            }
            Query::Name { keys, .. } if keys.is_empty() => return Ok(Vec::new()),
            Query::Name { keys, birth_year } => {
                let mut clauses = Vec::new();
                for (i, k) in keys.iter().take(3).enumerate() {
                    let a = texts.len() + 2;
                    texts.push(k.key.clone());
                    let mut alternatives = vec![format!("p.family_key = ${a}"), format!("p.given_key = ${a}")];
                    // Consonants alone match too loosely below three letters.
                    if k.consonants.chars().count() >= 3 {
                        let b = texts.len() + 2;
                        texts.push(k.consonants.clone());
                        alternatives.push(format!("p.family_consonants = ${b}"));
                        alternatives.push(format!("p.given_consonants = ${b}"));
                    }
                    clauses.push(format!("({})", alternatives.join(" OR ")));
                    if i == 0 {
                        terms = alternatives;
                    }
                }
                if let Some(y) = birth_year {
                    // The name's index, read in name order until the page is full, is the
                    // selective one. SQLite keeps no statistics and took three birth years of a
                    // clinic instead (42,000 persons at two million, 1.3 s, against 10 ms): `+`
                    // keeps the birth year's index out of its plan. PostgreSQL's statistics choose
                    // well, and `+` would hide the column from them: taken as matching almost no
                    // one, every "Hurshed" of the clinic (29,000) was read and sorted (0.4-0.5 s,
                    // against 8-11 ms).
                    let a = texts.len() + 2;
                    let unindexed = if matches!(self.backend, crate::Backend::Sqlite(_)) { "+" } else { "" };
                    clauses.push(format!("{unindexed}p.birth_year BETWEEN ${a} - 1 AND ${a} + 1"));
                    year = Some(i64::from(*y));
                }
                cond = clauses.join(" AND ");
            }
        }
        if terms.is_empty() {
            terms.push("TRUE".to_owned());
        }
        let limit = limit.clamp(1, 200).to_string();
        let mut selects: Vec<String> = terms
            .iter()
            .enumerate()
            .map(|(i, t)| {
                REGISTERED.replace("{term}", t).replace("{cond}", &cond).replace("{alias}", &format!("registered{i}"))
            })
            .collect();
        selects.push(REFERRED.replace("{cond}", &cond));
        let mut sql = selects.join(" UNION ").replace("{SUMMARY}", SUMMARY).replace("{limit}", &limit);
        sql.push_str(&format!(" ORDER BY family_name, given_name, code LIMIT {limit}"));
        let rows: Vec<PersonSummary> = with_pool!(self, pool => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(organisation_id);
            for t in &texts {
                q = q.bind(t);
            }
            if let Some(y) = year {
                q = q.bind(y);
            }
            q.fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Persons an organisation can reach who share a phone number, or a name and (within a year)
    /// a birth year: likely duplicates of a new registration.
    pub async fn likely_duplicates(
        &self,
        organisation_id: Uuid,
        family: Option<&str>,
        given: Option<&str>,
        birth_year: i32,
        phone: Option<&str>,
    ) -> Result<Vec<PersonSummary>> {
        let mut found: Vec<PersonSummary> = Vec::new();
        let names: Vec<&str> = [family, given].into_iter().flatten().filter(|n| !n.trim().is_empty()).collect();
        if !names.is_empty() {
            let keys = names.iter().map(|n| hamroh_domain::names::keys(n)).collect();
            let query = Query::Name { keys, birth_year: Some(birth_year) };
            found.extend(self.search_candidates(organisation_id, &query, 20).await?);
        }
        if let Some(phone) = phone {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            for p in self.search_candidates(organisation_id, &Query::Phone(digits), 20).await? {
                if !found.iter().any(|f| f.id == p.id) {
                    found.push(p);
                }
            }
        }
        Ok(found)
    }

    /// The screenings of one encounter.
    pub async fn encounter_screenings(&self, encounter_id: Uuid) -> Result<Vec<Screening>> {
        let person: Option<Uuid> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT person_id FROM screenings WHERE encounter_id = $1 LIMIT 1")
                .bind(encounter_id)
                .fetch_optional(pool)
                .await?
        });
        let Some(person) = person else { return Err(StoreError::NotFound) };
        Ok(self.screenings_of(person).await?.into_iter().filter(|s| s.encounter_id == encounter_id).collect())
    }

    /// The decision in force on an encounter: the latest (an amendment replaces the one before).
    /// The choice in force (the latest decision's) on each of a person's decided encounters.
    pub async fn decision_choices_of(&self, person_id: Uuid) -> Result<std::collections::HashMap<Uuid, String>> {
        let rows: Vec<(Uuid, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT encounter_id, choice FROM decisions WHERE person_id = $1 ORDER BY at, id")
                .bind(person_id)
                .fetch_all(pool)
                .await?
        });
        // Later decisions (amendments) replace earlier ones.
        Ok(rows.into_iter().collect())
    }

    pub async fn decision_for(&self, encounter_id: Uuid) -> Result<Option<Decision>> {
        Ok(self.decisions_of(encounter_id).await?.pop())
    }

    /// Every decision on an encounter, the first first: amendments keep the history.
    pub async fn decisions_of(&self, encounter_id: Uuid) -> Result<Vec<Decision>> {
        type Row = (Uuid, Uuid, Uuid, Uuid, Option<Uuid>, String, String, String, Option<String>, i64, Option<Uuid>);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, encounter_id, person_id, organisation_id, user_id, suggested, choice, action, reason, at, amends \
                 FROM decisions WHERE encounter_id = $1 ORDER BY at, id",
            )
            .bind(encounter_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    encounter_id,
                    person_id,
                    organisation_id,
                    user_id,
                    suggested,
                    choice,
                    action,
                    reason,
                    at,
                    amends,
                )| {
                    Decision {
                        id,
                        encounter_id,
                        person_id,
                        organisation_id,
                        user_id,
                        suggested: suggested.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                        choice,
                        action,
                        reason,
                        at,
                        amends,
                    }
                },
            )
            .collect())
    }

    pub async fn follow_ups_of(&self, person_id: Uuid) -> Result<Vec<FollowUp>> {
        let rows: Vec<FollowUpRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", follow_up_columns!(), " FROM follow_ups WHERE person_id = $1 ORDER BY due_date, id"))
                .bind(person_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(FollowUpRow::into_follow_up).collect()
    }

    /// One follow-up, if there is one.
    pub async fn follow_up(&self, id: Uuid) -> Result<Option<FollowUp>> {
        let row: Option<FollowUpRow> = with_pool!(self, pool => {
            sqlx::query_as(concat!("SELECT ", follow_up_columns!(), " FROM follow_ups WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(FollowUpRow::into_follow_up).transpose()
    }

    /// The safety assessments of a person, the latest last.
    pub async fn safety_assessments_of(&self, person_id: Uuid) -> Result<Vec<SafetyAssessment>> {
        let rows: Vec<SafetyRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, encounter_id, person_id, organisation_id, flag, outcome, thoughts, plan, act_past_year, \
                 imminent_risk, means_counselled, safety_plan, action, not_possible, attempts, note, user_id, at \
                 FROM safety_assessments WHERE person_id = $1 ORDER BY at, id",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(SafetyRow::into_assessment).collect()
    }

    pub async fn referrals_of(&self, person_id: Uuid) -> Result<Vec<ReferralLine>> {
        type Row = (Uuid, String, String, String, String, String, String, String, i64);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT r.id, r.code, s.name, o.name, r.reason, r.urgency, r.status, r.due_date, r.created_at \
                 FROM referrals r JOIN services s ON s.id = r.service_id JOIN organisations o ON o.id = r.to_organisation_id \
                 WHERE r.person_id = $1 ORDER BY r.created_at",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, code, service_name, organisation_name, reason, urgency, status, due_date, created_at)| {
                Ok(ReferralLine {
                    id,
                    code,
                    service_name,
                    organisation_name,
                    reason,
                    urgency: urgency.parse()?,
                    status: status.parse()?,
                    due_date,
                    created_at,
                })
            })
            .collect()
    }

    /// Persons of an organisation with a red flag waiting for its safety assessment, the `limit`
    /// who have waited longest first, one item per person with all their waiting flags.
    pub async fn urgent_items(&self, organisation_id: Uuid, limit: usize) -> Result<Listing<UrgentItem>> {
        self.waiting_flags(Some(organisation_id), false, limit).await
    }

    /// The person's red flags waiting for their assessment: (encounter, flags, contact today,
    /// escalated), the oldest first.
    pub async fn waiting_flags_of(&self, person_id: Uuid) -> Result<Vec<(Uuid, String, bool, bool)>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT f.encounter_id, f.flags, f.contact_today, f.escalated_at IS NOT NULL FROM open_red_flags f \
                 WHERE f.person_id = $1 ORDER BY f.encounter_at, f.encounter_id",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Encounters of an organisation that never asked about self-harm and gave no reason (imports,
    /// the API): (person, person code, encounter, when), the oldest first, until a later
    /// encounter of the person asks.
    pub async fn self_harm_not_asked(
        &self,
        organisation_id: Uuid,
        limit: usize,
    ) -> Result<Listing<(Uuid, String, Uuid, i64)>> {
        let from = "FROM self_harm_unasked u WHERE u.organisation_id = $1 AND u.reason IS NULL";
        let sql =
            format!("SELECT u.person_id, u.encounter_id, u.at {from} ORDER BY u.at, u.encounter_id LIMIT {limit}");
        let count = crate::referrals::capped_count(from);
        let (rows, count): (Vec<(Uuid, Uuid, i64)>, i64) =
            self.section_rows(limit, sql, count, values![organisation_id]).await?;
        let codes = self.person_codes(rows.iter().map(|r| r.0)).await?;
        let rows = rows.into_iter().map(|(p, e, at)| (p, codes.get(&p).cloned().unwrap_or_default(), e, at)).collect();
        Ok(Listing::of(rows, count))
    }

    /// The person's encounters that did not ask about self-harm, with the reason where one was
    /// given.
    pub async fn self_harm_unasked_of(&self, person_id: Uuid) -> Result<Vec<(Uuid, Option<String>)>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as("SELECT encounter_id, reason FROM self_harm_unasked WHERE person_id = $1 ORDER BY at")
                .bind(person_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Red flags escalated for want of an assessment, of one organisation or (`None`) all.
    pub async fn escalated_items(&self, organisation_id: Option<Uuid>, limit: usize) -> Result<Listing<UrgentItem>> {
        self.waiting_flags(organisation_id, true, limit).await
    }

    async fn waiting_flags(
        &self,
        organisation_id: Option<Uuid>,
        escalated_only: bool,
        limit: usize,
    ) -> Result<Listing<UrgentItem>> {
        let filter = match (organisation_id.is_some(), escalated_only) {
            (true, false) => "organisation_id = $1",
            (true, true) => "organisation_id = $1 AND escalated_at IS NOT NULL",
            (false, _) => "escalated_at IS NOT NULL AND $1 IS NULL",
        };
        let first = format!(
            "SELECT person_id, MIN(encounter_at) AS first_at FROM open_red_flags WHERE {filter} \
             GROUP BY person_id ORDER BY first_at, person_id LIMIT {limit}"
        );
        let sql = format!(
            "SELECT p.person_id, p.first_at, f.encounter_id, f.encounter_at, f.flags, f.contact_today, \
             f.escalated_at IS NOT NULL, o.id, o.name FROM ({first}) p \
             JOIN open_red_flags f ON f.person_id = p.person_id \
             JOIN organisations o ON o.id = f.organisation_id \
             ORDER BY p.first_at, p.person_id, f.encounter_at, f.encounter_id"
        );
        let count = format!(
            "SELECT COUNT(*) FROM (SELECT DISTINCT person_id FROM open_red_flags WHERE {filter} \
             LIMIT {WORKLIST_ROWS}) capped"
        );
        type Row = (Uuid, i64, Uuid, i64, String, bool, bool, Uuid, String);
        let (rows, count): (Vec<Row>, i64) = self.section_rows(limit, sql, count, values![organisation_id]).await?;
        let codes = self.person_codes(rows.iter().map(|r| r.0)).await?;
        let mut items: Vec<UrgentItem> = Vec::new();
        for (person_id, at, encounter_id, _, flags, contact_today, escalated, organisation_id, organisation) in rows {
            let item = match items.last_mut().filter(|i| i.person_id == person_id) {
                Some(item) => item,
                None => {
                    let person_code = codes.get(&person_id).cloned().unwrap_or_default();
                    items.push(UrgentItem {
                        encounter_id,
                        person_id,
                        person_code,
                        at,
                        flags: String::new(),
                        encounters: 0,
                        contact_today: false,
                        escalated: false,
                        organisation_id,
                        organisation,
                    });
                    items.last_mut().expect("just pushed")
                }
            };
            if item.encounter_id != encounter_id || item.encounters == 0 {
                item.encounters += 1;
            }
            item.encounter_id = encounter_id;
            item.contact_today |= contact_today;
            item.escalated |= escalated;
            for f in flags.split(',').filter(|f| !f.is_empty()) {
                if !item.flags.split(',').any(|x| x == f) {
                    item.flags = if item.flags.is_empty() { f.to_owned() } else { format!("{},{f}", item.flags) };
                }
            }
        }
        Ok(Listing::of(items, count))
    }

    /// Marks the red flags raised before `cutoff` and still not assessed as escalated (each once),
    /// and tells the coordinators through the outbox, in the same transaction. Returns the
    /// persons escalated now.
    pub async fn escalate_red_flags(
        &self,
        cutoff: i64,
        now: i64,
        notifier: &dyn crate::outbox::Notifier,
    ) -> Result<Vec<Uuid>> {
        type Row = (Uuid, Uuid);
        let due: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT DISTINCT person_id, organisation_id FROM open_red_flags \
                 WHERE escalated_at IS NULL AND encounter_at < $1 ORDER BY person_id",
            )
            .bind(cutoff)
            .fetch_all(pool)
            .await?
        });
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let coordinators = self.coordinator_contacts().await?;
        let codes = self.person_codes(due.iter().map(|d| d.0)).await?;
        let mut messages = Vec::new();
        let mut events = Vec::new();
        for (person, _) in &due {
            let alert = crate::outbox::Alert {
                kind: crate::outbox::AlertKind::Escalated,
                person_code: codes.get(person).cloned().unwrap_or_default(),
                flag: "self_harm".into(),
            };
            messages.extend(notifier.alert(&alert, &coordinators));
            events.push(NewAuditEvent::ok("escalate", "red_flag", person).person(*person));
        }
        let actor = Actor::system("safety-net");
        let mut tx = self.begin_write().await?;
        tx.execute(
            sql("UPDATE open_red_flags SET escalated_at = $1 WHERE escalated_at IS NULL AND encounter_at < $2")
                .bind(now)
                .bind(cutoff),
        )
        .await?;
        crate::audit::append(&mut tx, &actor, &events.iter().collect::<Vec<_>>()).await?;
        crate::outbox::enqueue(&mut tx, &messages.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(due.into_iter().map(|d| d.0).collect())
    }

    /// Every coordinator who can be reached by e-mail or SMS.
    pub async fn coordinator_contacts(&self) -> Result<Vec<crate::outbox::Contact>> {
        let rows: Vec<(Option<String>, Option<String>, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.email, u.phone, u.lang FROM users u JOIN user_roles r ON r.user_id = u.id \
                 WHERE r.role = 'coordinator' AND u.disabled = FALSE AND (u.email IS NOT NULL OR u.phone IS NOT NULL) \
                 ORDER BY u.username",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(email, phone, lang)| crate::outbox::Contact { email, phone, lang }).collect())
    }
}

#[derive(sqlx::FromRow)]
struct FollowUpRow {
    id: Uuid,
    person_id: Uuid,
    organisation_id: Uuid,
    referral_id: Option<Uuid>,
    kind: String,
    due_date: String,
    status: String,
    note: Option<String>,
    created_at: i64,
    created_by: Option<Uuid>,
    done_at: Option<i64>,
    source: String,
    encounter_id: Option<Uuid>,
    outcome: Option<String>,
}

impl FollowUpRow {
    fn into_follow_up(self) -> Result<FollowUp> {
        Ok(FollowUp {
            id: self.id,
            person_id: self.person_id,
            organisation_id: self.organisation_id,
            referral_id: self.referral_id,
            kind: self.kind.parse::<FollowUpKind>()?,
            due_date: self.due_date.parse().map_err(|_| StoreError::Corrupt(format!("due date {}", self.due_date)))?,
            status: self.status.parse::<FollowUpStatus>()?,
            note: self.note,
            created_at: self.created_at,
            created_by: self.created_by,
            done_at: self.done_at,
            source: self.source,
            encounter_id: self.encounter_id,
            outcome: self.outcome,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SafetyRow {
    id: Uuid,
    encounter_id: Uuid,
    person_id: Uuid,
    organisation_id: Uuid,
    flag: String,
    outcome: String,
    thoughts: Option<bool>,
    plan: Option<bool>,
    act_past_year: Option<bool>,
    imminent_risk: Option<bool>,
    means_counselled: Option<bool>,
    safety_plan: Option<String>,
    action: Option<String>,
    not_possible: Option<String>,
    attempts: Option<i64>,
    note: Option<String>,
    user_id: Option<Uuid>,
    at: i64,
}

impl SafetyRow {
    fn into_assessment(self) -> Result<SafetyAssessment> {
        use hamroh_domain::safety::{Assessment, SafetyRecord};
        let record = match (self.outcome.as_str(), self.not_possible) {
            ("not_possible", Some(reason)) => SafetyRecord::NotPossible {
                reason: reason.parse()?,
                attempts: u32::try_from(self.attempts.unwrap_or(0)).unwrap_or(0),
                note: self.note,
            },
            ("assessed", _) => SafetyRecord::Assessed(Assessment {
                thoughts: self.thoughts.unwrap_or(false),
                plan: self.plan.unwrap_or(false),
                act_past_year: self.act_past_year.unwrap_or(false),
                imminent_risk: self.imminent_risk.unwrap_or(false),
                means_counselled: self.means_counselled.unwrap_or(false),
                safety_plan: self.safety_plan.unwrap_or_default(),
                action: self.action.as_deref().unwrap_or_default().parse()?,
                note: self.note,
            }),
            (other, _) => return Err(StoreError::Corrupt(format!("safety assessment outcome {other}"))),
        };
        Ok(SafetyAssessment {
            id: self.id,
            encounter_id: self.encounter_id,
            person_id: self.person_id,
            organisation_id: self.organisation_id,
            flag: self.flag,
            record,
            user_id: self.user_id,
            at: self.at,
        })
    }
}
