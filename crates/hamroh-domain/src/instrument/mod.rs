//! Validated questionnaires as data. Each instrument is one TOML file under `instruments/` at the
//! repository root, embedded in the binary; one engine ([`score`]) scores them all.
//!
//! A file holds the instrument's names, recall period and instructions, its items and response
//! options in Tajik, Russian and English, its scoring rule, bands, cut-off and red-flag rules with
//! the source of each, its codes (LOINC where one exists) and its licence terms.

mod cutoffs;
mod definition;
mod detail;
mod score;

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use cutoffs::{CutoffOverride, Cutoffs};
pub use definition::{
    AnswerOption, Band, Codes, DetailRule, Flag, Instrument, Item, LanguageOrigin, Next, Positive, ResponseSet,
    Scoring, ScoringMethod, Skip, SkipMode, Texts, Threshold,
};
pub use detail::Detail;
pub use score::{AnswerError, CutoffUsed, Score, ScoreContext, ThresholdMet, Warning, parse_answers};

/// The instrument files, embedded at build time.
const FILES: &[(&str, &str)] = &[
    ("audit", include_str!("../../../../instruments/audit.toml")),
    ("auditc", include_str!("../../../../instruments/auditc.toml")),
    ("gad7", include_str!("../../../../instruments/gad7.toml")),
    ("k10", include_str!("../../../../instruments/k10.toml")),
    ("observations", include_str!("../../../../instruments/observations.toml")),
    ("pcl5", include_str!("../../../../instruments/pcl5.toml")),
    ("pcptsd5", include_str!("../../../../instruments/pcptsd5.toml")),
    ("phq15", include_str!("../../../../instruments/phq15.toml")),
    ("phq2", include_str!("../../../../instruments/phq2.toml")),
    ("phq9", include_str!("../../../../instruments/phq9.toml")),
    ("self_harm_questions", include_str!("../../../../instruments/self_harm_questions.toml")),
    ("srq20", include_str!("../../../../instruments/srq20.toml")),
    ("symptom_review", include_str!("../../../../instruments/symptom_review.toml")),
    ("wgss", include_str!("../../../../instruments/wgss.toml")),
    ("whodas12", include_str!("../../../../instruments/whodas12.toml")),
];

/// Every instrument Hamroh knows, by id.
#[derive(Debug)]
pub struct Catalog {
    instruments: BTreeMap<String, Instrument>,
}

impl Catalog {
    /// Parses and checks instrument files; the first bad file is named in the error.
    pub fn parse(files: &[(&str, &str)]) -> Result<Self, String> {
        let mut instruments = BTreeMap::new();
        for (name, text) in files {
            let instrument = Instrument::parse(text).map_err(|e| format!("instruments/{name}.toml: {e}"))?;
            if instrument.id != *name {
                return Err(format!("instruments/{name}.toml declares id `{}`", instrument.id));
            }
            instruments.insert(instrument.id.clone(), instrument);
        }
        Ok(Self { instruments })
    }

    pub fn get(&self, id: &str) -> Option<&Instrument> {
        self.instruments.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.instruments.values()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.instruments.keys().map(String::as_str)
    }
}

/// The embedded catalogue. Its files are checked by tests, so parsing cannot fail in a build
/// that passed them.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::parse(FILES).unwrap_or_else(|e| panic!("embedded instrument file is invalid: {e}")))
}

#[cfg(test)]
mod tests;
