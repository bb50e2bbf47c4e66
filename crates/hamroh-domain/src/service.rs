//! A service in the directory as a coordinator types it, checked field by field like a
//! registration: every problem names its field and a Fluent message id.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::code_enum;
use crate::geo;
use crate::model::Service;
use crate::org::{Lang, Sector};
use crate::person::DistrictCode;
use crate::registration::FieldError;
use crate::wording::{Translations, Wording};

code_enum!(
    /// What a person pays for a service.
    Cost: "cost" { Free = "free", Fee = "fee", Insurance = "insurance" }
);

code_enum!(
    /// A language a service is offered in (ISO 639; `sgn` is a sign language).
    ServiceLanguage: "service language" {
        Tajik = "tg",
        Russian = "ru",
        English = "en",
        Uzbek = "uz",
        Kyrgyz = "ky",
        Sign = "sgn",
    }
);

/// The longest response time a service may promise, in days.
pub const MAX_RESPONSE_DAYS: i64 = 90;

/// A service as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ServiceInput {
    pub name: String,
    pub sector: String,
    /// Free text such as `physiotherapy` or `legal advice`.
    pub service_type: String,
    /// Days to respond to a routine referral, 1 to 90.
    pub response_days: String,
    /// District codes (`TJ-KT.kulob`) or whole regions (`TJ-KT`).
    pub areas: Vec<String>,
    /// Codes of [`ServiceLanguage`].
    pub languages: Vec<String>,
    /// `free`, `fee` or `insurance`.
    pub cost: String,
    /// Usable by people with disabilities (step-free access, accessible toilet, sign language or help on site).
    pub accessible: bool,
    pub contact: String,
    pub opening_hours: String,
    /// What the service does.
    pub description: String,
    /// The language of `name`, `description` and `opening_hours`: `tg`, `ru` or `en`.
    pub text_lang: String,
    /// The name, description and opening hours in other languages; an empty name leaves the
    /// language out.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, Wording>))]
    pub translations: Translations,
}

impl ServiceInput {
    /// Checks every field; on success, the service to store under `id`.
    pub fn validate(&self, id: Uuid, organisation_id: Uuid) -> Result<Service, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: &'static str| errors.push(FieldError { field: field.to_owned(), message });
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            err("name", "error-required");
        }
        let sector = self.sector.parse::<Sector>().map_err(|_| err("sector", "error-choose")).ok();
        let service_type = self.service_type.trim();
        if service_type.is_empty() || service_type.chars().count() > 200 {
            err("service_type", "error-required");
        }
        let response_days = self
            .response_days
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_RESPONSE_DAYS).contains(d))
            .ok_or_else(|| err("response_days", "error-response-days"))
            .ok();
        let mut districts = Vec::new();
        for (n, area) in self.areas.iter().map(|a| a.trim()).filter(|a| !a.is_empty()).enumerate() {
            let found: Vec<DistrictCode> = if geo::region(area).is_some() {
                geo::districts_of(area).filter_map(|d| DistrictCode::parse(d.code).ok()).collect()
            } else {
                DistrictCode::parse(area).into_iter().collect()
            };
            if found.is_empty() {
                err(&format!("areas.{n}"), "error-district");
            }
            for d in found {
                if !districts.contains(&d) {
                    districts.push(d);
                }
            }
        }
        if districts.is_empty() {
            err("areas", "error-areas");
        }
        let mut languages = Vec::new();
        for (n, l) in self.languages.iter().enumerate() {
            match l.trim().parse::<ServiceLanguage>() {
                Ok(l) if !languages.contains(&l) => languages.push(l),
                Ok(_) => {}
                Err(_) => err(&format!("languages.{n}"), "error-choose"),
            }
        }
        if languages.is_empty() {
            err("languages", "error-languages");
        }
        let cost = self.cost.parse::<Cost>().map_err(|_| err("cost", "error-choose")).ok();
        let short = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let contact = short(&self.contact);
        let opening_hours = short(&self.opening_hours);
        if contact.as_deref().is_some_and(|c| c.chars().count() > 300) {
            err("contact", "error-too-long");
        }
        if opening_hours.as_deref().is_some_and(|c| c.chars().count() > 300) {
            err("opening_hours", "error-too-long");
        }
        let description = short(&self.description);
        if description.as_deref().is_some_and(|c| c.chars().count() > 1000) {
            err("description", "error-too-long");
        }
        let text_lang = self.text_lang.trim().parse::<Lang>().map_err(|_| err("text_lang", "error-choose")).ok();
        let mut translations = Translations::new();
        for (lang, w) in &self.translations {
            if Some(*lang) == text_lang || w.name.trim().is_empty() {
                continue;
            }
            let field = |name: &str| format!("translations.{lang}.{name}");
            let description = w.description.as_deref().and_then(short);
            let opening_hours = w.opening_hours.as_deref().and_then(short);
            for (name, text, limit) in [
                ("name", Some(w.name.trim().to_owned()), 200),
                ("description", description.clone(), 1000),
                ("opening_hours", opening_hours.clone(), 300),
            ] {
                if text.is_some_and(|t| t.chars().count() > limit) {
                    err(&field(name), "error-too-long");
                }
            }
            translations.insert(*lang, Wording { name: w.name.trim().to_owned(), description, opening_hours });
        }
        match (sector, response_days, cost, text_lang) {
            (Some(sector), Some(response_days), Some(cost), Some(text_lang)) if errors.is_empty() => Ok(Service {
                id,
                organisation_id,
                name: name.to_owned(),
                sector,
                service_type: service_type.to_owned(),
                response_days,
                districts,
                languages,
                cost,
                accessible: self.accessible,
                contact,
                opening_hours,
                description,
                text_lang,
                translations,
            }),
            _ => Err(errors),
        }
    }

    /// The form filled in with a stored service, for editing.
    pub fn from_service(s: &Service) -> Self {
        Self {
            name: s.name.clone(),
            sector: s.sector.as_str().to_owned(),
            service_type: s.service_type.clone(),
            response_days: s.response_days.to_string(),
            areas: s.districts.iter().map(|d| d.as_str().to_owned()).collect(),
            languages: s.languages.iter().map(|l| l.as_str().to_owned()).collect(),
            cost: s.cost.as_str().to_owned(),
            accessible: s.accessible,
            contact: s.contact.clone().unwrap_or_default(),
            opening_hours: s.opening_hours.clone().unwrap_or_default(),
            description: s.description.clone().unwrap_or_default(),
            text_lang: s.text_lang.as_str().to_owned(),
            translations: s.translations.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ServiceInput {
        ServiceInput {
            name: "Physiotherapy".into(),
            sector: "rehabilitation".into(),
            service_type: "physiotherapy".into(),
            response_days: "10".into(),
            areas: vec!["TJ-KT.kulob".into(), "TJ-DU".into()],
            languages: vec!["tg".into(), "ru".into()],
            cost: "free".into(),
            accessible: true,
            contact: " +992 37 000 00 00 ".into(),
            opening_hours: String::new(),
            description: String::new(),
            text_lang: "en".into(),
            translations: Translations::from([(
                Lang::Tg,
                Wording { name: " Физиотерапия ".into(), ..Wording::default() },
            )]),
        }
    }

    #[test]
    fn a_region_stands_for_all_its_districts() {
        let s = input().validate(Uuid::nil(), Uuid::nil()).unwrap();
        let dushanbe = geo::districts_of("TJ-DU").count();
        assert_eq!(s.districts.len(), 1 + dushanbe);
        assert_eq!(s.contact.as_deref(), Some("+992 37 000 00 00"));
        assert_eq!(s.opening_hours, None);
        assert_eq!(s.translations[&Lang::Tg].name, "Физиотерапия");
        assert_eq!(ServiceInput::from_service(&s).validate(Uuid::nil(), Uuid::nil()).unwrap(), s);
    }

    #[test]
    fn a_translation_without_a_name_or_in_the_own_language_is_left_out() {
        let mut typed = input();
        typed.translations.insert(Lang::Ru, Wording { description: Some("x".into()), ..Wording::default() });
        typed.translations.insert(Lang::En, Wording { name: "Other".into(), ..Wording::default() });
        let s = typed.validate(Uuid::nil(), Uuid::nil()).unwrap();
        assert_eq!(s.translations.keys().collect::<Vec<_>>(), [&Lang::Tg]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = ServiceInput {
            name: " ".into(),
            sector: "bakery".into(),
            response_days: "0".into(),
            areas: vec!["TJ-XX.nowhere".into()],
            languages: vec![],
            cost: "cheap".into(),
            ..input()
        };
        let mut fields: Vec<String> =
            bad.validate(Uuid::nil(), Uuid::nil()).unwrap_err().into_iter().map(|e| e.field).collect();
        fields.sort();
        assert_eq!(fields, ["areas", "areas.0", "cost", "languages", "name", "response_days", "sector"]);
    }
}
