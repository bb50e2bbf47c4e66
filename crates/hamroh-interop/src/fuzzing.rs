//! What the fuzz targets (`fuzz/`) run, kept here so that the corpus test
//! (`tests/fuzz_corpus.rs`) runs exactly the same on every build. Each function must return for
//! any input, and check what must hold whatever the input.

use hamroh_domain::instrument::{Instrument, catalog};

use crate::submissions::{self, Context, Mapping, Subject};
use crate::{fhir, sheet, xlsform};

/// The mapping the submissions target reads every input through.
pub const MAPPING: &str = r#"
source = "kobo:fuzz"
submission_id = "_uuid"
encounter_at = "end"
lang_column = "lang"
[person]
code = "code"
sex = "sex"
birth_year = "born"
district = "district"
consent_care = "care"
[[screening]]
instrument = "phq2"
prefix = "phq2/"
[[screening]]
instrument = "wgss"
prefix = "wgss/"
[recode.sex]
1 = "male"
2 = "female"
"#;

pub fn sheet(data: &[u8]) {
    if let Ok(sheet) = sheet::read(data) {
        assert!(!sheet.header.is_empty());
        for row in &sheet.rows {
            assert!(row.formulas.iter().all(|c| *c < row.cells.len()));
        }
    }
}

pub fn submissions(data: &[u8]) {
    let Ok(sheet) = sheet::read(data) else { return };
    let mapping = Mapping::parse(MAPPING).expect("the fuzz mapping parses");
    let ctx = Context {
        organisation_id: uuid::Uuid::nil(),
        user_id: None,
        now: 1_790_000_000_000,
        today: jiff::civil::date(2026, 9, 21),
    };
    let plan = submissions::plan(&sheet, &mapping, catalog(), &ctx);
    assert!(plan.submissions.len() + plan.problems.len() >= plan.submissions.len());
    for s in &plan.submissions {
        if let Subject::New(record) = &s.subject {
            // Scores never panic, whatever the answers: valid ones score, others are problems.
            let _ = submissions::score(s, &record.person, catalog(), &|_, _| None, &ctx);
        }
    }
}

pub fn xlsform(data: &[u8]) {
    if let Ok(form) = xlsform::convert(data) {
        Instrument::parse(&form.toml).expect("a converted form always loads");
    }
}

pub fn fhir_responses(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = fhir::read_responses(&value, catalog());
    }
}
