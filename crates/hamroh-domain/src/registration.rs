//! Registering a returnee: the raw input of a form or an API call, checked field by field. Every
//! problem is reported with the field it belongs to and a message id (a Fluent id), so that a form
//! can show it next to the field and keep everything that was typed.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::consent::{ConsentMode, ConsentScope};
use crate::migration::{BodyPart, InjuryCause, LegalStatus, ReturnReason, WorkSector, country};
use crate::model::{ConsentRecord, MigrationEpisode, Millis, Person, PersonRecord, WorkInjury};
use crate::person::{BirthYear, DistrictCode, Phone, Sex};

/// A registration as typed: every value still text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Registration {
    pub given_name: String,
    pub family_name: String,
    /// `male` or `female`.
    pub sex: String,
    pub birth_year: String,
    /// Hamroh's district code, e.g. `TJ-KT.kulob`.
    pub district: String,
    pub phone: String,
    pub episodes: Vec<EpisodeInput>,
    /// `care`, `research`, `sector:<sector>`, `org:<uuid>`; consent to care is required.
    pub consents: Vec<String>,
    /// How the consents were given: `verbal`, `written`, or empty when not said.
    pub consent_how: String,
}

/// One migration episode as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct EpisodeInput {
    /// ISO 3166-1 alpha-2, e.g. `RU`.
    pub destination_country: String,
    pub destination_region: String,
    pub year_from: String,
    pub year_to: String,
    pub work_sector: String,
    pub occupation: String,
    pub legal_status: String,
    /// `YYYY-MM-DD`.
    pub return_date: String,
    pub return_reason: String,
    pub injury: bool,
    pub injury_cause: String,
    pub injury_body_part: String,
}

impl EpisodeInput {
    pub fn is_blank(&self) -> bool {
        self.destination_country.trim().is_empty()
            && self.year_from.trim().is_empty()
            && self.work_sector.trim().is_empty()
    }

    /// Checks every field of one stay abroad, for the person `person_id`; field names in errors are
    /// the input's own (`year_from`), for the caller to place.
    pub fn validate(&self, person_id: Uuid, today: Date) -> Result<MigrationEpisode, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: &'static str| errors.push(FieldError { field: field.to_owned(), message });
        let this_year = i32::from(today.year());
        let country =
            country(self.destination_country.trim()).map_err(|_| err("destination_country", "error-country")).ok();
        let year = |text: &str| text.trim().parse::<i32>().ok().filter(|y| (1970..=this_year).contains(y));
        let year_from = year(&self.year_from);
        if year_from.is_none() {
            err("year_from", "error-year");
        }
        let year_to = match opt(&self.year_to) {
            Some(t) => {
                let y = year(&t);
                if y.is_none() || y < year_from {
                    err("year_to", "error-year-to");
                }
                y
            }
            None => None,
        };
        let work_sector = self.work_sector.parse::<WorkSector>().map_err(|_| err("work_sector", "error-choose")).ok();
        let legal_status = match opt(&self.legal_status) {
            Some(s) => s.parse::<LegalStatus>().map_err(|_| err("legal_status", "error-choose")).ok(),
            None => Some(LegalStatus::Unknown),
        };
        let return_date = match opt(&self.return_date) {
            Some(d) => match d.parse::<Date>() {
                Ok(d) if d <= today => Some(d),
                _ => {
                    err("return_date", "error-return-date");
                    None
                }
            },
            None => None,
        };
        let return_reason = match opt(&self.return_reason) {
            Some(r) => r.parse::<ReturnReason>().map_err(|_| err("return_reason", "error-choose")).ok(),
            None => None,
        };
        let injury = injury_of(self.injury, &self.injury_cause, &self.injury_body_part, &mut err);
        match (country, year_from, work_sector, legal_status) {
            (Some(c), Some(year_from), Some(work_sector), Some(legal_status)) if errors.is_empty() => {
                Ok(MigrationEpisode {
                    id: Uuid::now_v7(),
                    person_id,
                    destination_country: c.code.to_owned(),
                    destination_region: opt(&self.destination_region),
                    year_from,
                    year_to,
                    work_sector,
                    occupation: opt(&self.occupation),
                    legal_status,
                    return_date,
                    return_reason,
                    injury: injury.flatten(),
                })
            }
            _ => Err(errors),
        }
    }
}

/// A work injury as typed: `None` when a field is wrong (reported through `err`), else the injury
/// or, when `injured` is false, no injury.
pub(crate) fn injury_of(
    injured: bool,
    cause: &str,
    body_part: &str,
    err: &mut impl FnMut(&str, &'static str),
) -> Option<Option<WorkInjury>> {
    if !injured {
        return Some(None);
    }
    let cause = cause.parse::<InjuryCause>().map_err(|_| err("injury_cause", "error-choose")).ok();
    let body_part = body_part.parse::<BodyPart>().map_err(|_| err("injury_body_part", "error-choose")).ok();
    Some(Some(WorkInjury { cause: cause?, body_part: body_part? }))
}

/// A problem with one field; `message` is the Fluent message id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: &'static str,
}

/// What the caller supplies: ids, the registering organisation and user, and now.
#[derive(Debug, Clone, Copy)]
pub struct RegistrationContext {
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub user_id: Option<Uuid>,
    pub now: Millis,
    pub today: Date,
}

pub(crate) fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A short, unambiguous code from the person's id (Crockford base 32): the low 40 bits of the v7
/// id's random tail. Codes are unique in the store; at national scale two ids can share one (about
/// two among two million people), so registering retries with a fresh id (see [`reissue`]).
pub fn person_code(id: Uuid) -> String {
    let bytes = id.as_bytes();
    let tail =
        u64::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]]);
    code_of("HM", tail)
}

/// A code of a number: its low 40 bits as `PREFIX-XXXX-XXXX`.
pub fn code_of(prefix: &str, mut n: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut chars = [0u8; 8];
    for c in chars.iter_mut().rev() {
        *c = ALPHABET[(n % 32) as usize];
        n /= 32;
    }
    let s = String::from_utf8_lossy(&chars).into_owned();
    format!("{prefix}-{}-{}", &s[..4], &s[4..])
}

/// Gives a validated record a new person id, and the code that goes with it, before it is stored
/// again after its code was found taken.
pub fn reissue(record: &mut PersonRecord, id: Uuid) {
    record.person.id = id;
    record.person.code = person_code(id);
    for e in &mut record.episodes {
        e.person_id = id;
    }
    for c in &mut record.consents {
        c.person_id = id;
    }
}

impl Registration {
    /// Checks every field; on success, the records to store.
    pub fn validate(&self, ctx: &RegistrationContext) -> Result<PersonRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: &'static str| errors.push(FieldError { field: field.to_owned(), message });
        let this_year = i32::from(ctx.today.year());
        let sex = self.sex.parse::<Sex>().map_err(|_| err("sex", "error-sex")).ok();
        let birth_year = match self.birth_year.trim().parse::<i32>() {
            Ok(y) => BirthYear::new(y, this_year).map_err(|_| err("birth_year", "error-birth-year")).ok(),
            Err(_) => {
                err("birth_year", "error-birth-year");
                None
            }
        };
        let district = DistrictCode::parse(self.district.trim()).map_err(|_| err("district", "error-district")).ok();
        let phone = match opt(&self.phone) {
            Some(p) => Phone::parse(&p).map(Some).map_err(|_| err("phone", "error-phone")).unwrap_or(None),
            None => None,
        };
        let mut scopes = Vec::new();
        for (n, c) in self.consents.iter().enumerate() {
            match c.parse::<ConsentScope>() {
                Ok(s) if !scopes.contains(&s) => scopes.push(s),
                Ok(_) => {}
                Err(_) => err(&format!("consents.{n}"), "error-consent-scope"),
            }
        }
        if !scopes.contains(&ConsentScope::Care) {
            err("consents", "error-consent-care");
        }
        let how = match opt(&self.consent_how) {
            Some(h) => h.parse::<ConsentMode>().map_err(|_| err("consent_how", "error-choose")).ok(),
            None => None,
        };
        let mut episodes = Vec::new();
        for (n, e) in self.episodes.iter().enumerate().filter(|(_, e)| !e.is_blank()) {
            match e.validate(ctx.person_id, ctx.today) {
                Ok(episode) => episodes.push(episode),
                Err(problems) => {
                    for p in problems {
                        err(&format!("episodes.{n}.{}", p.field), p.message);
                    }
                }
            }
        }
        let given_name = opt(&self.given_name);
        let family_name = opt(&self.family_name);
        for (field, name) in [("given_name", &given_name), ("family_name", &family_name)] {
            if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
                err(field, "error-too-long");
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(sex), Some(birth_year), Some(district)) = (sex, birth_year, district) else { return Err(errors) };
        let person = Person {
            id: ctx.person_id,
            code: person_code(ctx.person_id),
            organisation_id: ctx.organisation_id,
            sex,
            birth_year,
            district,
            given_name,
            family_name,
            phone,
            created_at: ctx.now,
            created_by: ctx.user_id,
        };
        let consents = scopes
            .into_iter()
            .map(|scope| ConsentRecord {
                id: Uuid::now_v7(),
                person_id: ctx.person_id,
                scope,
                given: true,
                recorded_at: ctx.now,
                recorded_by: ctx.user_id,
                how,
            })
            .collect();
        Ok(PersonRecord { person, episodes, consents })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RegistrationContext {
        RegistrationContext {
            person_id: Uuid::now_v7(),
            organisation_id: Uuid::now_v7(),
            user_id: None,
            now: 0,
            today: jiff::civil::date(2026, 11, 24),
        }
    }

    fn valid() -> Registration {
        Registration {
            given_name: "Фирӯз".into(),
            family_name: "Раҳимов".into(),
            sex: "male".into(),
            birth_year: "1990".into(),
            district: "TJ-KT.kulob".into(),
            phone: "+992 93 123 45 67".into(),
            episodes: vec![EpisodeInput {
                destination_country: "RU".into(),
                destination_region: "Moscow".into(),
                year_from: "2018".into(),
                year_to: "2025".into(),
                work_sector: "construction".into(),
                legal_status: "regular".into(),
                return_date: "2025-10-01".into(),
                return_reason: "injury".into(),
                injury: true,
                injury_cause: "fall".into(),
                injury_body_part: "spine".into(),
                ..EpisodeInput::default()
            }],
            consents: vec!["care".into(), "sector:rehabilitation".into()],
            consent_how: "written".into(),
        }
    }

    #[test]
    fn a_complete_registration_gives_the_records() {
        let rec = valid().validate(&ctx()).unwrap();
        assert_eq!(rec.person.phone.as_ref().unwrap().as_str(), "+992931234567");
        assert!(rec.person.code.starts_with("HM-") && rec.person.code.len() == 12);
        assert_eq!(rec.episodes[0].injury.unwrap().body_part, BodyPart::Spine);
        assert_eq!(rec.consents.len(), 2);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut r = valid();
        r.sex = "x".into();
        r.birth_year = "2024".into();
        r.district = "TJ-KT.nowhere".into();
        r.phone = "12".into();
        r.consents = vec!["research".into()];
        r.episodes[0].year_to = "2010".into();
        r.episodes[0].injury_cause = String::new();
        let errors = r.validate(&ctx()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in ["sex", "birth_year", "district", "phone", "consents", "episodes.0.year_to", "episodes.0.injury_cause"]
        {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
    }

    #[test]
    fn a_blank_episode_is_ignored_and_names_are_optional() {
        let mut r = valid();
        r.given_name.clear();
        r.family_name.clear();
        r.phone.clear();
        r.episodes = vec![EpisodeInput::default()];
        let rec = r.validate(&ctx()).unwrap();
        assert!(rec.episodes.is_empty() && rec.person.given_name.is_none());
    }

    #[test]
    fn a_code_spells_the_low_forty_bits() {
        assert_eq!(code_of("HM", 0), "HM-0000-0000");
        assert_eq!(code_of("HM", 31), "HM-0000-000Z");
        assert_eq!(code_of("R", (1 << 40) - 1), "R-ZZZZ-ZZZZ");
        assert_eq!(code_of("HM", 1 << 40), "HM-0000-0000");
    }

    #[test]
    fn a_reissued_record_belongs_to_the_new_id_throughout() {
        let mut rec = valid().validate(&ctx()).unwrap();
        let id = Uuid::now_v7();
        reissue(&mut rec, id);
        assert_eq!((rec.person.id, rec.person.code.clone()), (id, person_code(id)));
        assert!(rec.episodes.iter().all(|e| e.person_id == id) && !rec.episodes.is_empty());
        assert!(rec.consents.iter().all(|c| c.person_id == id) && !rec.consents.is_empty());
    }
}
