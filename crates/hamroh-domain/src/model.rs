//! The records Hamroh keeps, as plain data built from validated values. The store persists them;
//! the demo generator, imports and the web layer create them.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::consent::{ConsentMode, ConsentScope};
use crate::migration::{BodyPart, InjuryCause, LegalStatus, ReturnReason, WorkSector};
use crate::org::{Lang, Role, Sector};
use crate::person::{BirthYear, DistrictCode, Phone, Sex};
use crate::referral::{Barrier, FollowUpKind, FollowUpStatus, ReferralStatus, Urgency};
use crate::service::{Cost, ServiceLanguage};
use crate::wording::{Translations, Wording, Words};

/// Milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub sector: Sector,
    pub district: Option<DistrictCode>,
    /// False for an organisation that receives referrals on paper, outside Hamroh.
    pub uses_hamroh: bool,
    /// The language `name` is in, and the name in others.
    pub name_lang: Lang,
    pub translations: Translations,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub sector: Sector,
    pub service_type: String,
    /// Days the service takes to respond to a routine referral.
    pub response_days: i64,
    pub districts: Vec<DistrictCode>,
    pub languages: Vec<ServiceLanguage>,
    pub cost: Cost,
    /// Usable by people with disabilities.
    pub accessible: bool,
    pub contact: Option<String>,
    pub opening_hours: Option<String>,
    /// What the service does, for the person and the referrer.
    pub description: Option<String>,
    /// The language of `name`, `description` and `opening_hours`, and those words in others.
    pub text_lang: Lang,
    pub translations: Translations,
}

impl Service {
    /// The service's words in every language it has them in.
    pub fn words(&self) -> Words {
        Words {
            lang: self.text_lang,
            own: Wording {
                name: self.name.clone(),
                description: self.description.clone(),
                opening_hours: self.opening_hours.clone(),
            },
            translations: self.translations.clone(),
        }
    }
}

impl Organisation {
    /// The organisation's name in every language it has it in.
    pub fn words(&self) -> Words {
        Words {
            lang: self.name_lang,
            own: Wording { name: self.name.clone(), ..Wording::default() },
            translations: self.translations.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub username: String,
    pub display_name: String,
    /// A PHC string (Argon2id); never the password.
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub lang: Lang,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub id: Uuid,
    /// The pseudonymous id shown to people, e.g. `HM-7K3Q-9D2F`.
    pub code: String,
    /// The organisation that registered the person.
    pub organisation_id: Uuid,
    pub sex: Sex,
    pub birth_year: BirthYear,
    pub district: DistrictCode,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone: Option<Phone>,
    pub created_at: Millis,
    pub created_by: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationEpisode {
    pub id: Uuid,
    pub person_id: Uuid,
    /// ISO 3166-1 alpha-2.
    pub destination_country: String,
    pub destination_region: Option<String>,
    pub year_from: i32,
    pub year_to: Option<i32>,
    pub work_sector: WorkSector,
    pub occupation: Option<String>,
    pub legal_status: LegalStatus,
    pub return_date: Option<Date>,
    pub return_reason: Option<ReturnReason>,
    pub injury: Option<WorkInjury>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WorkInjury {
    pub cause: InjuryCause,
    pub body_part: BodyPart,
}

/// One recorded consent decision; the latest decision per scope is in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsentRecord {
    pub id: Uuid,
    pub person_id: Uuid,
    pub scope: ConsentScope,
    pub given: bool,
    pub recorded_at: Millis,
    pub recorded_by: Option<Uuid>,
    /// Verbal or written, where the recorder said.
    pub how: Option<ConsentMode>,
}

/// What the scoring engine computed for one screening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreeningOutcome {
    pub total: Option<i64>,
    pub band: Option<String>,
    pub positive: Option<bool>,
    pub flags: Vec<String>,
    /// The engine's full result, kept as it was computed.
    pub result: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Screening {
    pub id: Uuid,
    /// The encounter (one sitting with the person) the screening belongs to.
    pub encounter_id: Uuid,
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub user_id: Option<Uuid>,
    pub encounter_at: Millis,
    pub instrument: String,
    pub instrument_version: String,
    pub lang: Lang,
    /// Raw answers in item order; `None` for an item skipped by the instrument's rules.
    pub answers: Vec<Option<i64>>,
    pub outcome: ScreeningOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referral {
    pub id: Uuid,
    /// Short code printed on a paper slip for organisations outside Hamroh.
    pub code: String,
    pub person_id: Uuid,
    pub from_organisation_id: Uuid,
    pub from_user_id: Option<Uuid>,
    pub service_id: Uuid,
    pub to_organisation_id: Uuid,
    pub screening_id: Option<Uuid>,
    pub reason: String,
    pub urgency: Urgency,
    pub due_date: Date,
    pub status: ReferralStatus,
    pub note: Option<String>,
    pub created_at: Millis,
    /// Every state change, in order; the first is the creation.
    pub events: Vec<ReferralEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferralEvent {
    pub from_status: Option<ReferralStatus>,
    pub to_status: ReferralStatus,
    pub at: Millis,
    pub by_user_id: Option<Uuid>,
    pub reason: Option<String>,
    pub barrier: Option<Barrier>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUp {
    pub id: Uuid,
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub referral_id: Option<Uuid>,
    pub kind: FollowUpKind,
    pub due_date: Date,
    pub status: FollowUpStatus,
    pub note: Option<String>,
    pub created_at: Millis,
    pub created_by: Option<Uuid>,
    pub done_at: Option<Millis>,
    /// What set it: a pathway rule or flag (`self_harm`, `depression`, ...) or `manual`.
    pub source: String,
    /// The encounter whose pathway set it, if one did.
    pub encounter_id: Option<Uuid>,
    /// What came of it (done), or why it was cancelled.
    pub outcome: Option<String>,
}

/// Where a follow-up set by hand comes from.
pub const MANUAL: &str = "manual";

/// The clinician's decision on an encounter's suggested pathway.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub id: Uuid,
    pub encounter_id: Uuid,
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub user_id: Option<Uuid>,
    /// The ids of the pathway rules that fired.
    pub suggested: Vec<String>,
    /// `follow` (the suggestion) or `other`.
    pub choice: String,
    /// What was chosen: the suggested actions, or the clinician's own.
    pub action: String,
    /// Why another choice was made (required for `other`), or why the decision was amended.
    pub reason: Option<String>,
    /// The decision this one amends (the earlier stays in the history).
    pub amends: Option<Uuid>,
    pub at: Millis,
}

/// Records to store together, in one transaction.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Batch {
    pub organisations: Vec<Organisation>,
    pub services: Vec<Service>,
    pub users: Vec<User>,
    pub persons: Vec<PersonRecord>,
    pub screenings: Vec<Screening>,
    pub referrals: Vec<Referral>,
    pub follow_ups: Vec<FollowUp>,
    pub decisions: Vec<Decision>,
    pub safety_assessments: Vec<SafetyAssessment>,
    /// Encounters captured without a face-to-face visit (an import, the API, a form filled
    /// offline): their red flags ask to contact the person today.
    pub remote_encounters: Vec<Uuid>,
    /// Why an encounter of this batch did not ask about self-harm, where the clinician said
    /// (`declined`, `unable`); an encounter that did not ask and is not listed waits on the
    /// worklist as "self-harm not asked".
    pub self_harm_not_asked: Vec<(Uuid, crate::safety::NotAsked)>,
}

/// The safety assessment of one red flag of an encounter, or why none could be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SafetyAssessment {
    pub id: Uuid,
    pub encounter_id: Uuid,
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub flag: String,
    pub record: crate::safety::SafetyRecord,
    pub user_id: Option<Uuid>,
    pub at: Millis,
}

/// A person with the episodes and consents recorded at registration.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub person: Person,
    pub episodes: Vec<MigrationEpisode>,
    pub consents: Vec<ConsentRecord>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.organisations.is_empty()
            && self.services.is_empty()
            && self.users.is_empty()
            && self.persons.is_empty()
            && self.screenings.is_empty()
            && self.referrals.is_empty()
            && self.follow_ups.is_empty()
            && self.decisions.is_empty()
            && self.safety_assessments.is_empty()
    }
}

/// The month a moment falls in, in Tajikistan's time (UTC+5, no daylight saving), as `YYYYMM`.
pub fn period_month(at: Millis) -> i64 {
    let local = jiff::Timestamp::from_millisecond(at)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5)));
    i64::from(local.year()) * 100 + i64::from(local.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_month_uses_dushanbe_time() {
        // 2026-01-31 20:00 UTC is already 1 February in Dushanbe.
        let at = jiff::Timestamp::from_second(1_769_889_600).unwrap().as_millisecond();
        assert_eq!(period_month(at), 202602);
    }
}
