//! The clinician's reads: finding people, an encounter's screenings and decision, a person's
//! follow-ups and referrals, and the red flags still waiting for an action. Person-level access is
//! the gate's business; these functions only fetch.

use hamroh_domain::model::{Decision, FollowUp, Screening};
use hamroh_domain::names::Query;
use hamroh_domain::referral::{FollowUpKind, FollowUpStatus, ReferralStatus, Urgency};
use serde::Serialize;
use uuid::Uuid;

use crate::referrals::{Listing, WORKLIST_ROWS};
use crate::{Result, Store, StoreError};

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
    pub encounter_id: Uuid,
    pub person_id: Uuid,
    pub person_code: String,
    pub at: i64,
    pub flags: String,
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
                    clauses.push(format!("p.birth_year BETWEEN ${} - 1 AND ${} + 1", texts.len() + 2, texts.len() + 2));
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

    pub async fn decision_for(&self, encounter_id: Uuid) -> Result<Option<Decision>> {
        type Row = (Uuid, Uuid, Uuid, Uuid, Option<Uuid>, String, String, String, Option<String>, i64);
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, encounter_id, person_id, organisation_id, user_id, suggested, choice, action, reason, at \
                 FROM decisions WHERE encounter_id = $1 ORDER BY at DESC LIMIT 1",
            )
            .bind(encounter_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(id, encounter_id, person_id, organisation_id, user_id, suggested, choice, action, reason, at)| {
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
            }
        }))
    }

    pub async fn follow_ups_of(&self, person_id: Uuid) -> Result<Vec<FollowUp>> {
        type Row =
            (Uuid, Uuid, Uuid, Option<Uuid>, String, String, String, Option<String>, i64, Option<Uuid>, Option<i64>);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, person_id, organisation_id, referral_id, kind, due_date, status, note, created_at, created_by, done_at \
                 FROM follow_ups WHERE person_id = $1 ORDER BY due_date, id",
            )
            .bind(person_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(
                    id,
                    person_id,
                    organisation_id,
                    referral_id,
                    kind,
                    due,
                    status,
                    note,
                    created_at,
                    created_by,
                    done_at,
                )| {
                    Ok(FollowUp {
                        id,
                        person_id,
                        organisation_id,
                        referral_id,
                        kind: kind.parse::<FollowUpKind>()?,
                        due_date: due.parse().map_err(|_| StoreError::Corrupt(format!("due date {due}")))?,
                        status: status.parse::<FollowUpStatus>()?,
                        note,
                        created_at,
                        created_by,
                        done_at,
                    })
                },
            )
            .collect()
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

    /// Encounters at an organisation with a red flag and no decision yet, the `limit` oldest first.
    pub async fn urgent_items(&self, organisation_id: Uuid, limit: usize) -> Result<Listing<UrgentItem>> {
        // The first `limit` encounters, then their flagged screenings: an encounter is one item
        // however many of its instruments raised a flag.
        let first = format!(
            "SELECT DISTINCT encounter_at, encounter_id FROM open_red_flags WHERE organisation_id = $1 \
             ORDER BY encounter_at, encounter_id LIMIT {limit}"
        );
        let sql = format!(
            "SELECT s.encounter_id, s.person_id, s.encounter_at, s.flags FROM ({first}) e \
             JOIN open_red_flags f ON f.encounter_id = e.encounter_id JOIN screenings s ON s.id = f.screening_id \
             ORDER BY e.encounter_at, e.encounter_id, s.id"
        );
        let count = format!(
            "SELECT COUNT(*) FROM (SELECT DISTINCT encounter_id FROM open_red_flags WHERE organisation_id = $1 \
             LIMIT {WORKLIST_ROWS}) capped"
        );
        type Row = (Uuid, Uuid, i64, String);
        let (rows, count): (Vec<Row>, i64) = section_rows!(self, limit, sql, count, organisation_id);
        let codes = self.person_codes(rows.iter().map(|r| r.1)).await?;
        let mut items: Vec<UrgentItem> = Vec::new();
        for (encounter_id, person_id, at, flags) in rows {
            let person_code = codes.get(&person_id).cloned().unwrap_or_default();
            match items.last_mut().filter(|i| i.encounter_id == encounter_id) {
                Some(item) => {
                    for f in flags.split(',') {
                        if !item.flags.split(',').any(|x| x == f) {
                            item.flags = format!("{},{f}", item.flags);
                        }
                    }
                }
                None => items.push(UrgentItem { encounter_id, person_id, person_code, at, flags }),
            }
        }
        Ok(Listing::of(items, count))
    }
}
