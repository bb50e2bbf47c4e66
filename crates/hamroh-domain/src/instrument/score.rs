//! Validating answers and scoring them. Validation comes first and names the item at fault;
//! red flags are computed from items alone, never from the total.

use serde::Serialize;
use thiserror::Error;

use super::definition::{Instrument, ScoringMethod};
use crate::model::ScreeningOutcome;
use crate::person::Sex;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("{instrument} has {expected} items, got {got} answers")]
    Count {
        instrument: String,
        expected: usize,
        got: usize,
    },
    #[error(
        "item {item}: `{value}` is not a number (use `-` for an item left out by the skip rules)"
    )]
    NotANumber { item: usize, value: String },
    #[error("item {item}: {value} is out of range; expected one of {allowed}")]
    OutOfRange {
        item: usize,
        value: i64,
        allowed: String,
    },
    #[error("item {item}: an answer is required")]
    Missing { item: usize },
}

/// What the engine needs to know besides the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScoreContext {
    pub sex: Option<Sex>,
    /// A deployment's own cut-off for this instrument (and this person's sex), overriding the
    /// manual's.
    pub positive_at_least: Option<i64>,
}

/// The cut-off a result was judged against, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CutoffUsed {
    pub at_least: i64,
    /// `manual` (the instrument file's rule) or `deployment` (an override).
    pub source: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    pub instrument: String,
    pub version: String,
    pub total: Option<i64>,
    pub band: Option<String>,
    pub positive: Option<bool>,
    pub flags: Vec<String>,
    pub cutoff: Option<CutoffUsed>,
}

impl Score {
    pub fn into_outcome(self) -> ScreeningOutcome {
        let result = serde_json::to_value(&self).unwrap_or_default();
        ScreeningOutcome {
            total: self.total,
            band: self.band,
            positive: self.positive,
            flags: self.flags,
            result,
        }
    }
}

/// Parses `v1,v2,...` where each value is an integer or `-`.
pub fn parse_answers(text: &str) -> Result<Vec<Option<i64>>, AnswerError> {
    text.split(',')
        .enumerate()
        .map(|(n, raw)| match raw.trim() {
            "-" => Ok(None),
            v => v.parse().map(Some).map_err(|_| AnswerError::NotANumber {
                item: n + 1,
                value: v.to_owned(),
            }),
        })
        .collect()
}

impl Instrument {
    /// Checks the answers against the items and scores them.
    pub fn score(&self, answers: &[Option<i64>], ctx: &ScoreContext) -> Result<Score, AnswerError> {
        self.validate(answers)?;
        let values: Vec<i64> = answers.iter().map(|a| a.unwrap_or(0)).collect();
        let total = match self.scoring.method {
            ScoringMethod::Sum => values.iter().sum(),
            ScoringMethod::CountAtLeast => {
                let at_least = self.scoring.item_at_least.unwrap_or(i64::MAX);
                values.iter().filter(|v| **v >= at_least).count() as i64
            }
        };
        let band = self
            .bands
            .iter()
            .find(|b| (b.min..=b.max).contains(&total))
            .map(|b| b.id.clone());
        let cutoff = self.positive.as_ref().map(|p| match ctx.positive_at_least {
            Some(at_least) => CutoffUsed {
                at_least,
                source: "deployment",
            },
            None => {
                let by_sex = match ctx.sex {
                    Some(Sex::Male) => p.at_least_male,
                    Some(Sex::Female) => p.at_least_female,
                    None => None,
                };
                CutoffUsed {
                    at_least: by_sex.unwrap_or(p.at_least),
                    source: "manual",
                }
            }
        });
        let flags = self
            .flags
            .iter()
            .filter(|f| {
                self.item_index(&f.item)
                    .and_then(|i| answers[i])
                    .is_some_and(|v| v >= f.at_least)
            })
            .map(|f| f.id.clone())
            .collect();
        Ok(Score {
            instrument: self.id.clone(),
            version: self.version.clone(),
            total: Some(total),
            band,
            positive: cutoff.as_ref().map(|c| total >= c.at_least),
            flags,
            cutoff,
        })
    }

    fn validate(&self, answers: &[Option<i64>]) -> Result<(), AnswerError> {
        if answers.len() != self.items.len() {
            return Err(AnswerError::Count {
                instrument: self.id.clone(),
                expected: self.items.len(),
                got: answers.len(),
            });
        }
        for (n, (item, answer)) in self.items.iter().zip(answers).enumerate() {
            let Some(value) = *answer else {
                return Err(AnswerError::Missing { item: n + 1 });
            };
            if !item.allows(self, value) {
                let allowed: Vec<String> = self.response_sets[&item.response_set]
                    .options
                    .iter()
                    .map(|o| o.value.to_string())
                    .collect();
                return Err(AnswerError::OutOfRange {
                    item: n + 1,
                    value,
                    allowed: allowed.join(", "),
                });
            }
        }
        Ok(())
    }
}
