//! Keeping a registered person's record current: a new phone or district, a later stay abroad, a
//! work injury learnt of after registration. The input is text, as a form or an API call sends it;
//! only what it names changes, and every problem is reported with its field, as at registration.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{MigrationEpisode, WorkInjury};
use crate::person::{DistrictCode, Phone};
use crate::registration::{EpisodeInput, FieldError, injury_of, opt};

/// A change to a person's record as typed. An absent field stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RecordUpdate {
    /// The new phone; an empty text removes it.
    pub phone: Option<String>,
    /// The district the person lives in now, e.g. `TJ-KT.kulob`.
    pub district: Option<String>,
    /// A later stay abroad to add.
    pub add_episode: Option<EpisodeInput>,
    /// The work injury of stays already recorded.
    pub injuries: Vec<InjuryUpdate>,
}

/// The work injury of one recorded stay abroad: given, changed or (with `injury` false) removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct InjuryUpdate {
    pub episode_id: Uuid,
    pub injury: bool,
    pub injury_cause: String,
    pub injury_body_part: String,
}

/// A checked change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordChange {
    /// `Some(None)` removes the phone.
    pub phone: Option<Option<Phone>>,
    pub district: Option<DistrictCode>,
    pub add_episode: Option<MigrationEpisode>,
    pub injuries: Vec<(Uuid, Option<WorkInjury>)>,
}

impl RecordChange {
    pub fn is_empty(&self) -> bool {
        self.phone.is_none() && self.district.is_none() && self.add_episode.is_none() && self.injuries.is_empty()
    }
}

impl RecordUpdate {
    /// Checks every field given; errors name `phone`, `district`, `add_episode.<field>` or
    /// `injuries.<n>.<field>`.
    pub fn validate(&self, person_id: Uuid, today: Date) -> Result<RecordChange, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut change = RecordChange::default();
        if let Some(phone) = &self.phone {
            change.phone = match opt(phone) {
                None => Some(None),
                Some(p) => match Phone::parse(&p) {
                    Ok(p) => Some(Some(p)),
                    Err(_) => {
                        errors.push(FieldError { field: "phone".into(), message: "error-phone" });
                        None
                    }
                },
            };
        }
        if let Some(district) = &self.district {
            match DistrictCode::parse(district.trim()) {
                Ok(d) => change.district = Some(d),
                Err(_) => errors.push(FieldError { field: "district".into(), message: "error-district" }),
            }
        }
        if let Some(episode) = self.add_episode.as_ref().filter(|e| !e.is_blank()) {
            match episode.validate(person_id, today) {
                Ok(e) => change.add_episode = Some(e),
                Err(problems) => errors.extend(
                    problems.into_iter().map(|p| FieldError { field: format!("add_episode.{}", p.field), ..p }),
                ),
            }
        }
        for (n, u) in self.injuries.iter().enumerate() {
            let mut err = |field: &str, message: &'static str| {
                errors.push(FieldError { field: format!("injuries.{n}.{field}"), message })
            };
            if let Some(injury) = injury_of(u.injury, &u.injury_cause, &u.injury_body_part, &mut err) {
                change.injuries.push((u.episode_id, injury));
            }
        }
        if errors.is_empty() { Ok(change) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        jiff::civil::date(2026, 12, 3)
    }

    #[test]
    fn only_the_fields_given_change() {
        let update = RecordUpdate { phone: Some("+992 93 000 11 22".into()), ..RecordUpdate::default() };
        let change = update.validate(Uuid::nil(), today()).unwrap();
        assert_eq!(change.phone.unwrap().unwrap().as_str(), "+992930001122");
        assert!(change.district.is_none() && change.add_episode.is_none() && change.injuries.is_empty());
        assert!(RecordUpdate::default().validate(Uuid::nil(), today()).unwrap().is_empty());
    }

    #[test]
    fn an_empty_phone_removes_it() {
        let update = RecordUpdate { phone: Some("  ".into()), ..RecordUpdate::default() };
        assert_eq!(update.validate(Uuid::nil(), today()).unwrap().phone, Some(None));
    }

    #[test]
    fn every_wrong_field_is_named() {
        let update = RecordUpdate {
            phone: Some("12".into()),
            district: Some("TJ-XX.nowhere".into()),
            add_episode: Some(EpisodeInput {
                destination_country: "RU".into(),
                year_from: "2031".into(),
                work_sector: "construction".into(),
                ..EpisodeInput::default()
            }),
            injuries: vec![InjuryUpdate { episode_id: Uuid::nil(), injury: true, ..InjuryUpdate::default() }],
        };
        let fields: Vec<String> =
            update.validate(Uuid::nil(), today()).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["phone", "district", "add_episode.year_from", "injuries.0.injury_cause", "injuries.0.injury_body_part"]
        );
    }

    #[test]
    fn an_injury_can_be_given_and_removed() {
        let id = Uuid::now_v7();
        let update = RecordUpdate {
            injuries: vec![
                InjuryUpdate {
                    episode_id: id,
                    injury: true,
                    injury_cause: "fall".into(),
                    injury_body_part: "spine".into(),
                },
                InjuryUpdate { episode_id: id, injury: false, ..InjuryUpdate::default() },
            ],
            ..RecordUpdate::default()
        };
        let change = update.validate(Uuid::nil(), today()).unwrap();
        assert!(change.injuries[0].1.is_some());
        assert_eq!(change.injuries[1], (id, None));
    }
}
