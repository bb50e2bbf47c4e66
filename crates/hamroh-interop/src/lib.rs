//! Hamroh's records in the formats partners' systems speak. FHIR R4 JSON for now: instruments as
//! `Questionnaire`s and a person's record as a `Bundle`.

pub mod fhir;
