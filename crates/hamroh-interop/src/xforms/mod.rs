//! Hamroh's instruments as ODK XForms (the XForms 1.0 profile that ODK Collect, KoBoCollect and
//! Enketo fill offline), generated from the instrument files, never written by hand; and the
//! instances those clients submit, read back into answers for the engine.
//!
//! Every form carries its labels in Tajik, Russian and English as itext translations (Tajik is
//! the default), the engine's values as choice values, the instrument's skip rules as `relevant`,
//! every scored item as required, the person's code (scanned or typed), the respondent's
//! language, the time the interview began and `meta/instanceID`. Forms: one per instrument
//! (`formID` = the instrument's id), a combined encounter form, and a registration form for new
//! returnees. The specification followed is the ODK XForms specification
//! (getodk.github.io/xforms-spec); the test command checks every form with ODK Validate.

mod build;
mod forms;
mod instance;

pub use forms::{ENCOUNTER_FORM, REGISTRATION_FORM, all_forms, form};
pub use instance::{Submitted, SubmittedEncounter, SubmittedRegistration, read_instance};

use hamroh_domain::instrument::Texts;

/// A generated form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XForm {
    /// The `formID`: an instrument's id, `encounter` or `registration`.
    pub id: String,
    /// The form's name in English, Russian and Tajik.
    pub title: Texts,
    /// Changes whenever the form's text changes (a device then fetches it again).
    pub version: String,
    pub xml: String,
}

impl XForm {
    /// The MD5 of the form's XML, as OpenRosa's form list gives it (`md5:<hex>`).
    pub fn hash(&self) -> String {
        use md5::Digest;
        format!("md5:{}", hex::encode(md5::Md5::digest(self.xml.as_bytes())))
    }
}

/// Where the forms' own words come from (field labels, the registration form's vocabularies):
/// the caller's message catalogue, by message id, in the three languages.
pub trait Wording {
    fn texts(&self, key: &str) -> Texts;
}
