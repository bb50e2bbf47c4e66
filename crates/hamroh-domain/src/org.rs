//! Organisations, the sectors they work in, and the roles of their users.

use crate::code_enum;

code_enum!(
    /// The sector of an organisation or a service; consent to share is given per sector.
    Sector: "sector" {
        PrimaryCare = "primary_care",
        MentalHealth = "mental_health",
        Rehabilitation = "rehabilitation",
        SocialProtection = "social_protection",
        Employment = "employment",
        SmallBusiness = "small_business",
        LegalAid = "legal_aid",
        Ngo = "ngo",
        International = "international",
        Government = "government",
    }
);

code_enum!(
    /// What a user may do; see DESIGN.md "Who uses it".
    Role: "role" {
        Clinician = "clinician",
        Specialist = "specialist",
        CaseWorker = "case_worker",
        Coordinator = "coordinator",
        Analyst = "analyst",
        Admin = "admin",
    }
);

code_enum!(
    /// The language of the interface or of an administered instrument.
    Lang: "language" { Tg = "tg", Ru = "ru", En = "en" }
);

impl Lang {
    /// The one of three texts (English, Russian, Tajik) in this language.
    pub fn pick<'a>(self, en: &'a str, ru: &'a str, tg: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ru => ru,
            Lang::Tg => tg,
        }
    }
}
