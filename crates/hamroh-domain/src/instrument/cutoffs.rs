//! A deployment's own cut-offs, overriding the instrument files' without a code change: a TOML file
//! with one table per instrument, e.g.
//!
//! ```toml
//! [srq20]
//! at_least = 8          # anyone
//! at_least_male = 10    # men, where a local validation says so
//! at_least_female = 11
//! source = "Local validation study, 2027"
//! ```
//!
//! Every result records whether the instrument's or the deployment's cut-off was used.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Catalog;
use crate::person::Sex;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutoffOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least_male: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least_female: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Cutoffs {
    by_instrument: BTreeMap<String, CutoffOverride>,
}

impl Cutoffs {
    /// Parses a cut-off file and checks it against the catalogue: known instruments that have a
    /// positive rule, and values within each instrument's score range.
    pub fn parse(text: &str, catalog: &Catalog) -> Result<Self, String> {
        let by_instrument: BTreeMap<String, CutoffOverride> = toml::from_str(text).map_err(|e| e.to_string())?;
        for (id, o) in &by_instrument {
            let inst = catalog.get(id).ok_or_else(|| format!("[{id}]: unknown instrument"))?;
            if inst.positive.is_none() {
                return Err(format!("[{id}]: this instrument has no cut-off to override"));
            }
            for v in [o.at_least, o.at_least_male, o.at_least_female].into_iter().flatten() {
                if !(inst.scoring.min..=inst.scoring.max).contains(&v) {
                    return Err(format!(
                        "[{id}]: {v} is outside the score range {}..={}",
                        inst.scoring.min, inst.scoring.max
                    ));
                }
            }
            if o.at_least.is_none() && o.at_least_male.is_none() && o.at_least_female.is_none() {
                return Err(format!("[{id}]: give at_least, at_least_male or at_least_female"));
            }
        }
        Ok(Self { by_instrument })
    }

    /// The deployment's cut-off for an instrument and a respondent's sex, if it sets one.
    pub fn for_respondent(&self, instrument: &str, sex: Option<Sex>) -> Option<i64> {
        let o = self.by_instrument.get(instrument)?;
        let by_sex = match sex {
            Some(Sex::Male) => o.at_least_male,
            Some(Sex::Female) => o.at_least_female,
            None => None,
        };
        by_sex.or(o.at_least)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::catalog;

    #[test]
    fn a_file_sets_cut_offs_per_sex_and_is_checked() {
        let c = Cutoffs::parse("[srq20]\nat_least = 8\nat_least_male = 10\n", catalog()).unwrap();
        assert_eq!(c.for_respondent("srq20", Some(Sex::Male)), Some(10));
        assert_eq!(c.for_respondent("srq20", Some(Sex::Female)), Some(8));
        assert_eq!(c.for_respondent("phq9", Some(Sex::Female)), None);
        assert!(Cutoffs::parse("[nosuch]\nat_least = 1\n", catalog()).unwrap_err().contains("unknown instrument"));
        assert!(Cutoffs::parse("[whodas12]\nat_least = 20\n", catalog()).unwrap_err().contains("no cut-off"));
        assert!(Cutoffs::parse("[srq20]\nat_least = 21\n", catalog()).unwrap_err().contains("outside"));
        assert!(Cutoffs::parse("[srq20]\nsource = \"x\"\n", catalog()).is_err());
    }
}
