//! Hamroh's records in the formats partners' systems speak: instruments as FHIR R4
//! `Questionnaire`s and a person's record as a `Bundle` ([`fhir`]); survey submissions exported
//! from KoBoToolbox or ODK Central ([`sheet`], [`submissions`]); forms authored in XLSForm
//! ([`xlsform`]); instruments as ODK XForms for offline capture, and the instances devices submit
//! ([`xforms`]).

pub mod fhir;
pub mod fuzzing;
pub mod sheet;
pub mod submissions;
pub mod xforms;
pub mod xlsform;
