//! Validating answers and scoring them. Validation comes first and names the item at fault;
//! red flags are computed from items alone, never from the total.

use serde::Serialize;
use thiserror::Error;

use super::definition::{Instrument, ScoringMethod, SkipMode};
use super::detail::{Answered, Detail, detail};
use crate::model::ScreeningOutcome;
use crate::org::Lang;
use crate::person::Sex;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("{instrument} has {expected} items{optional}, got {got} answers", optional = optional_note(*.required, *.expected))]
    Count { instrument: String, expected: usize, required: usize, got: usize },
    #[error("item {item}: `{value}` is not a number (use `-` for an item left out by the skip rules)")]
    NotANumber { item: usize, value: String },
    #[error("item {item}: {value} is out of range; expected one of {allowed}")]
    OutOfRange { item: usize, value: i64, allowed: String },
    #[error("item {item}: an answer is required")]
    Missing { item: usize },
    #[error("item {item}: must be left out (-): {reason}")]
    MustSkip { item: usize, reason: String },
    #[error("the respondent's sex is required (male or female): the cut-off differs by sex")]
    SexRequired { instrument: String },
}

/// ", the last N optional" when an instrument's last items may be left off.
fn optional_note(required: usize, expected: usize) -> String {
    match expected - required {
        0 => String::new(),
        1 => ", the last one optional".to_owned(),
        n => format!(", the last {n} optional"),
    }
}

impl AnswerError {
    /// The item (1-based) the problem is with, if it is about one item.
    pub fn item(&self) -> Option<usize> {
        match self {
            Self::NotANumber { item, .. }
            | Self::OutOfRange { item, .. }
            | Self::Missing { item }
            | Self::MustSkip { item, .. } => Some(*item),
            Self::Count { .. } | Self::SexRequired { .. } => None,
        }
    }
}

/// What the engine needs to know besides the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScoreContext {
    pub sex: Option<Sex>,
    /// A deployment's own cut-off for this instrument (and this person's sex), overriding the
    /// file's.
    pub positive_at_least: Option<i64>,
    /// The language for texts in the result (checklist reasons); English when absent.
    pub lang: Option<Lang>,
}

/// The cut-off a result was judged against, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CutoffUsed {
    pub at_least: i64,
    /// `instrument` (the instrument file's rule, for this sex) or `deployment` (an override).
    pub source: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThresholdMet<'a> {
    pub id: &'a str,
    pub at_least: i64,
    pub met: bool,
}

/// Something in the answers a clinician should know, that does not stop them being scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning<'a> {
    /// `answered_though_not_asked`: an item the interview form leaves out was answered (a
    /// self-completed form asks every item); it is scored as answered.
    pub code: &'static str,
    /// The item's id.
    pub item: &'a str,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Score<'a> {
    pub instrument: &'a str,
    pub version: &'a str,
    pub total: Option<i64>,
    pub band: Option<&'a str>,
    pub positive: Option<bool>,
    pub flags: Vec<&'a str>,
    pub cutoff: Option<CutoffUsed>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdMet<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail<'a>>,
    /// Inconsistencies in the answers, kept with the result (never a reason to refuse it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning<'a>>,
}

impl Score<'_> {
    pub fn into_outcome(self) -> ScreeningOutcome {
        let result = serde_json::to_value(&self).unwrap_or_default();
        ScreeningOutcome {
            total: self.total,
            band: self.band.map(str::to_owned),
            positive: self.positive,
            flags: self.flags.iter().map(|f| (*f).to_owned()).collect(),
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
            v => v.parse().map(Some).map_err(|_| AnswerError::NotANumber { item: n + 1, value: v.to_owned() }),
        })
        .collect()
}

/// Whether a skip rule leaves an item out for this respondent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Skipped {
    No,
    Must,
    Interview,
    /// The rule depends on sex and sex is unknown: the item may be answered or left out.
    Unknown,
}

impl Instrument {
    /// Checks the answers against the items and the skip rules, and scores them.
    pub fn score(&self, answers: &[Option<i64>], ctx: &ScoreContext) -> Result<Score<'_>, AnswerError> {
        let (values, warnings) = self.validate(answers, ctx)?;
        let c = &self.compiled;
        let item_at_least = self.scoring.item_at_least.unwrap_or(i64::MAX);
        let scored = values.iter().zip(&c.scored).filter(|(_, s)| **s).map(|(v, _)| *v);
        let total = match self.scoring.method {
            ScoringMethod::Sum => scored.sum(),
            ScoringMethod::CountAtLeast => scored.filter(|v| *v >= item_at_least).count() as i64,
            ScoringMethod::DomainsPresent => {
                let mut present = 0u64;
                for (n, v) in values.iter().enumerate() {
                    if c.scored[n]
                        && *v >= item_at_least
                        && let Some(d) = c.item_domain[n]
                    {
                        present |= 1 << d;
                    }
                }
                i64::from(present.count_ones())
            }
        };
        let cutoff = self.positive.as_ref().map(|p| match ctx.positive_at_least {
            Some(at_least) => CutoffUsed { at_least, source: "deployment" },
            None => CutoffUsed { at_least: p.for_sex(ctx.sex), source: "instrument" },
        });
        let positive = cutoff.as_ref().map(|c| total >= c.at_least);
        let band = if self.scoring.bands_follow_cutoff {
            positive.map(|p| if p { "positive" } else { "negative" })
        } else {
            self.bands
                .iter()
                .find(|b| b.min.is_some_and(|min| total >= min) && b.max.is_some_and(|max| total <= max))
                .map(|b| b.id.as_str())
        };
        let mut flags: Vec<&str> = Vec::new();
        // Several items may raise the same flag; it is raised once.
        for (f, _) in self
            .flags
            .iter()
            .zip(&c.flags)
            .filter(|(_, (item, at_least))| answers[*item].is_some_and(|v| v >= *at_least))
        {
            if !flags.contains(&f.id.as_str()) {
                flags.push(f.id.as_str());
            }
        }
        let thresholds = self
            .thresholds
            .iter()
            .map(|t| ThresholdMet { id: &t.id, at_least: t.at_least, met: total >= t.at_least })
            .collect();
        Ok(Score {
            instrument: &self.id,
            version: &self.version,
            total: Some(total),
            band,
            positive,
            flags,
            cutoff,
            thresholds,
            detail: self.detail.map(|rule| {
                detail(self, rule, Answered { values: &values, given: answers }, ctx.lang.unwrap_or(Lang::En))
            }),
            warnings,
        })
    }

    /// The value each item counts as (a left-out item counts as its lowest value) and the
    /// warnings, or the first problem found, item by item.
    fn validate(
        &self,
        answers: &[Option<i64>],
        ctx: &ScoreContext,
    ) -> Result<(Vec<i64>, Vec<Warning<'_>>), AnswerError> {
        let c = &self.compiled;
        let required = self.required_items();
        if !(required..=self.items.len()).contains(&answers.len()) {
            return Err(AnswerError::Count {
                instrument: self.id.clone(),
                expected: self.items.len(),
                required,
                got: answers.len(),
            });
        }
        // Optional items left off the end are unanswered.
        let padded: Vec<Option<i64>>;
        let answers = if answers.len() < self.items.len() {
            padded = answers.iter().copied().chain(std::iter::repeat(None)).take(self.items.len()).collect();
            &padded[..]
        } else {
            answers
        };
        if self.scoring.requires_sex && ctx.sex.is_none() {
            return Err(AnswerError::SexRequired { instrument: self.id.clone() });
        }
        // Answers given count as given, also where the interview form would not have asked them.
        let values: Vec<i64> = answers.iter().zip(&c.lowest).map(|(a, low)| a.unwrap_or(*low)).collect();
        let mut warnings = Vec::new();
        // Which rule leaves each item out, if any; no allocation for instruments without skip rules.
        let mut skipped: Vec<(Skipped, usize)> = Vec::new();
        if !c.skips.is_empty() {
            skipped = vec![(Skipped::No, 0); answers.len()];
        }
        for (rule_no, rule) in c.skips.iter().enumerate() {
            let applies = match rule.sex {
                Some(sex) => match ctx.sex {
                    Some(s) if s == sex => Some(rule.mode),
                    // Sex unknown: marked below as answerable or left out.
                    _ => None,
                },
                None => (rule.when_sum_of.iter().map(|i| values[*i]).sum::<i64>() == rule.equals).then_some(rule.mode),
            };
            for &item in &rule.items {
                let state = match (applies, rule.sex.is_some() && ctx.sex.is_none()) {
                    (_, true) => Skipped::Unknown,
                    (Some(SkipMode::Must), _) => Skipped::Must,
                    (Some(SkipMode::Interview), _) => Skipped::Interview,
                    (None, _) => continue,
                };
                skipped[item] = (state, rule_no);
            }
        }
        for (n, answer) in answers.iter().enumerate() {
            let item = n + 1;
            let (state, rule_no) = skipped.get(n).copied().unwrap_or((Skipped::No, 0));
            match (state, *answer) {
                (Skipped::Must, Some(_)) => {
                    let rule = &self.skip[rule_no];
                    return Err(AnswerError::MustSkip { item, reason: rule.source.clone() });
                }
                (Skipped::Must | Skipped::Interview | Skipped::Unknown, None) => {}
                (Skipped::No, None) if self.items[n].optional => {}
                (Skipped::No, None) => return Err(AnswerError::Missing { item }),
                (_, Some(v)) => {
                    if !(0..64).contains(&v) || c.allowed[n] & (1 << v) == 0 {
                        let allowed: Vec<String> = self.items[n].values(self).map(|v| v.to_string()).collect();
                        return Err(AnswerError::OutOfRange { item, value: v, allowed: allowed.join(", ") });
                    }
                    if state == Skipped::Interview && v != c.lowest[n] {
                        let rule = &self.skip[rule_no];
                        warnings.push(Warning {
                            code: "answered_though_not_asked",
                            item: &self.items[n].id,
                            message: format!(
                                "item {item} was answered ({v}) although the interview form does not ask it ({}); \
                                 it is scored as answered",
                                rule.source
                            ),
                        });
                    }
                }
            }
        }
        Ok((values, warnings))
    }
}
