//! Who to call in a self-harm emergency: the national emergency numbers and, for each district or
//! region, the nearest psychiatric emergency service. They come from a deployment file (TOML, in
//! Tajik, Russian and English) because only the ministry can vouch for them; Hamroh ships the
//! national number it could confirm and no district service, and says so where one is missing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::geo;
use crate::instrument::Texts;
use crate::org::Lang;

/// The file shipped with Hamroh: the national emergency number only.
pub const DEFAULT_FILE: &str = include_str!("../../../data/emergency-contacts.toml");

/// One number to call, with where and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: Texts,
    pub phone: String,
    #[serde(default)]
    pub address: Option<Texts>,
    #[serde(default)]
    pub hours: Option<Texts>,
}

/// A contact in one language, as pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactView {
    pub name: String,
    pub phone: String,
    /// The number as a `tel:` link dials it: digits and a leading `+`.
    pub tel: String,
    pub address: Option<String>,
    pub hours: Option<String>,
}

impl Contact {
    pub fn view(&self, lang: Lang) -> ContactView {
        ContactView {
            name: self.name.get(lang).to_owned(),
            phone: self.phone.clone(),
            tel: self.phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect(),
            address: self.address.as_ref().map(|a| a.get(lang).to_owned()),
            hours: self.hours.as_ref().map(|h| h.get(lang).to_owned()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    national: Vec<Contact>,
    /// Keyed by a district code (`"TJ-DU.sino"`, quoted in TOML for its dot) or a region code (`TJ-SU`) for a region-wide service.
    #[serde(default)]
    area: BTreeMap<String, Vec<Contact>>,
}

/// The deployment's emergency contacts, checked when loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmergencyContacts {
    national: Vec<Contact>,
    areas: BTreeMap<String, Vec<Contact>>,
}

/// What stands beside a self-harm flag for a person of one district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForDistrict {
    pub national: Vec<ContactView>,
    /// The district's own services, then its region's.
    pub psychiatric: Vec<ContactView>,
}

impl EmergencyContacts {
    /// Parses and checks a file: every area is a known district or region, every phone has digits.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let check = |c: &Contact, place: &str| -> Result<(), String> {
            for (lang, t) in [("tg", &c.name.tg), ("ru", &c.name.ru), ("en", &c.name.en)] {
                if t.trim().is_empty() {
                    return Err(format!("{place}: the {lang} name is empty"));
                }
            }
            let digits = c.phone.chars().filter(char::is_ascii_digit).count();
            let allowed = c.phone.chars().all(|ch| ch.is_ascii_digit() || " +-()".contains(ch));
            if digits < 2 || !allowed {
                return Err(format!("{place}: \"{}\" is not a phone number", c.phone));
            }
            Ok(())
        };
        for c in &file.national {
            check(c, "national")?;
        }
        for (area, contacts) in &file.area {
            let known = geo::district(area).is_some() || geo::REGIONS.iter().any(|r| r.code == area);
            if !known {
                return Err(format!("area \"{area}\" is neither a district nor a region code"));
            }
            for c in contacts {
                check(c, area)?;
            }
        }
        Ok(Self { national: file.national, areas: file.area })
    }

    /// The contacts shipped with Hamroh.
    pub fn shipped() -> Self {
        Self::parse(DEFAULT_FILE).unwrap_or_else(|e| panic!("the shipped emergency contacts are invalid: {e}"))
    }

    /// The national numbers, in all three languages.
    pub fn national(&self) -> &[Contact] {
        &self.national
    }

    /// The numbers for a person living in `district` (a district code; unknown or empty: national only).
    pub fn for_district(&self, district: &str, lang: Lang) -> ForDistrict {
        let region = geo::district(district).map(|d| d.region);
        let psychiatric = [Some(district), region]
            .into_iter()
            .flatten()
            .filter_map(|area| self.areas.get(area))
            .flatten()
            .map(|c| c.view(lang))
            .collect();
        ForDistrict { national: self.national.iter().map(|c| c.view(lang)).collect(), psychiatric }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_loads_and_names_the_national_number() {
        let shipped = EmergencyContacts::shipped();
        let dushanbe = shipped.for_district("TJ-DU.sino", Lang::Tg);
        assert!(dushanbe.national.iter().any(|c| c.phone == "112"));
        assert!(dushanbe.psychiatric.is_empty(), "no district service is shipped unverified");
    }

    #[test]
    fn a_district_sees_its_own_service_then_its_region() {
        let district = geo::districts_of("TJ-SU").next().unwrap().code;
        let text = format!(
            r#"
[[national]]
name = {{ en = "Emergency", ru = "Экстренная служба", tg = "Хадамоти фавқулодда" }}
phone = "112"

[[area."{district}"]]
name = {{ en = "District service", ru = "Районная служба", tg = "Хадамоти ноҳия" }}
phone = "+992 00 000 0000"

[[area.TJ-SU]]
name = {{ en = "Regional hospital", ru = "Областная больница", tg = "Беморхонаи вилоятӣ" }}
phone = "(3422) 0-00-00"
hours = {{ en = "Day and night", ru = "Круглосуточно", tg = "Шабонарӯзӣ" }}
"#
        );
        let contacts = EmergencyContacts::parse(&text).unwrap();
        let seen = contacts.for_district(district, Lang::Ru);
        let names: Vec<_> = seen.psychiatric.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Районная служба", "Областная больница"]);
        assert_eq!(seen.psychiatric[1].hours.as_deref(), Some("Круглосуточно"));
        assert!(contacts.for_district("", Lang::En).psychiatric.is_empty());
    }

    #[test]
    fn unknown_areas_and_numbers_that_are_not_numbers_are_refused() {
        let named = |area: &str, phone: &str| {
            format!("[[area.{area}]]\nname = {{ en = \"x\", ru = \"x\", tg = \"x\" }}\nphone = \"{phone}\"\n")
        };
        assert!(EmergencyContacts::parse(&named("\"TJ-DU.nowhere\"", "112")).unwrap_err().contains("TJ-DU.nowhere"));
        assert!(EmergencyContacts::parse(&named("TJ-SU", "call the office")).unwrap_err().contains("phone"));
        assert!(EmergencyContacts::parse("[[national]]\nphone = \"112\"\n").is_err(), "a name is required");
    }
}
