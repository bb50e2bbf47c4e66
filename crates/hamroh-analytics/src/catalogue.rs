//! The indicator catalogue: each indicator's id and version, its formula (the definition as code),
//! and what its own categories are. The definitions in words, in Tajik, Russian and English, are
//! the Fluent messages `indicator-<id>` and `indicator-<id>-definition`.

use serde::{Deserialize, Serialize};

/// What an indicator counts, after the store's facts are read (WG-SS answers become domains).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Registered,
    Screened,
    Positive,
    SelfHarm,
    /// WG-SS administrations with at least one domain answered "a lot of difficulty" or "cannot do
    /// at all" (the Washington Group's disability cut-off).
    WgssDisability,
    /// The same, per domain; the category is the domain.
    WgssDomain,
    Injury,
    ReferralSent,
    ReferralAccepted,
    ReferralAttended,
    Barrier,
    Lost,
}

impl Metric {
    pub const ALL: [Metric; 12] = [
        Metric::Registered,
        Metric::Screened,
        Metric::Positive,
        Metric::SelfHarm,
        Metric::WgssDisability,
        Metric::WgssDomain,
        Metric::Injury,
        Metric::ReferralSent,
        Metric::ReferralAccepted,
        Metric::ReferralAttended,
        Metric::Barrier,
        Metric::Lost,
    ];

    /// The metric's name, as serde writes it (a release layer names hundreds of thousands of
    /// figures by it).
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Registered => "registered",
            Metric::Screened => "screened",
            Metric::Positive => "positive",
            Metric::SelfHarm => "self_harm",
            Metric::WgssDisability => "wgss_disability",
            Metric::WgssDomain => "wgss_domain",
            Metric::Injury => "injury",
            Metric::ReferralSent => "referral_sent",
            Metric::ReferralAccepted => "referral_accepted",
            Metric::ReferralAttended => "referral_attended",
            Metric::Barrier => "barrier",
            Metric::Lost => "lost",
        }
    }

    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// A metric, optionally limited to some of its categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Selector {
    pub metric: Metric,
    /// Empty: every category.
    pub categories: &'static [&'static str],
}

impl Selector {
    pub fn code(&self) -> String {
        let metric = self.metric.as_str().to_owned();
        if self.categories.is_empty() { metric } else { format!("{metric}[{}]", self.categories.join(",")) }
    }

    pub fn matches(&self, metric: Metric, category: Option<&str>) -> bool {
        metric == self.metric && (self.categories.is_empty() || category.is_some_and(|c| self.categories.contains(&c)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Formula {
    /// A number of records.
    Count { numerator: Selector },
    /// Numerator and denominator counts and their ratio.
    Share { numerator: Selector, denominator: Selector },
    /// The median of the records' values (days).
    Median { of: Selector },
}

impl Formula {
    /// The counts the formula reads: its numerator (or the records of a median), then its
    /// denominator.
    pub fn selectors(&self) -> Vec<Selector> {
        match *self {
            Formula::Count { numerator } | Formula::Median { of: numerator } => vec![numerator],
            Formula::Share { numerator, denominator } => vec![numerator, denominator],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    pub id: &'static str,
    pub version: u32,
    pub formula: Formula,
    /// What the indicator's own categories are (a Fluent id suffix), if it has any.
    pub category: Option<&'static str>,
}

impl Metric {
    /// The store's measure this metric is read from.
    pub fn measure(self) -> hamroh_store::facts::Measure {
        use hamroh_store::facts::Measure as M;
        match self {
            Metric::Registered => M::Registered,
            Metric::Screened => M::Screened,
            Metric::Positive => M::Positive,
            Metric::SelfHarm => M::SelfHarm,
            Metric::WgssDisability | Metric::WgssDomain => M::WgssAnswers,
            Metric::Injury => M::Injury,
            Metric::ReferralSent => M::ReferralSent,
            Metric::ReferralAccepted => M::ReferralAccepted,
            Metric::ReferralAttended => M::ReferralAttended,
            Metric::Barrier => M::Barrier,
            Metric::Lost => M::Lost,
        }
    }
}

impl Indicator {
    /// The metrics the indicator's figures are protected with: its own, and those that share a
    /// table with them.
    pub fn reads_metrics(&self) -> Vec<Metric> {
        let own: Vec<Metric> = self.formula.selectors().iter().map(|s| s.metric).collect();
        let mut out: Vec<Metric> = Vec::new();
        for m in own.into_iter().flat_map(crate::release::family) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// The definition as code, e.g. `count(positive[gad7]) / count(screened[gad7])`.
    pub fn code(&self) -> String {
        match self.formula {
            Formula::Count { numerator } => format!("count({})", numerator.code()),
            Formula::Share { numerator, denominator } => {
                format!("count({}) / count({})", numerator.code(), denominator.code())
            }
            Formula::Median { of } => format!("median_days({})", of.code()),
        }
    }
}

const fn count(metric: Metric, categories: &'static [&'static str]) -> Formula {
    Formula::Count { numerator: Selector { metric, categories } }
}

const fn share(metric: Metric, over: Metric, categories: &'static [&'static str]) -> Formula {
    Formula::Share { numerator: Selector { metric, categories }, denominator: Selector { metric: over, categories } }
}

const DEPRESSION: &[&str] = &["phq9", "phq2"];
const PTSD: &[&str] = &["pcl5", "pcptsd5"];
const ALCOHOL: &[&str] = &["audit", "auditc"];

use Metric::*;

pub const CATALOGUE: &[Indicator] = &[
    Indicator { id: "registered", version: 1, formula: count(Registered, &[]), category: None },
    Indicator { id: "screened", version: 1, formula: count(Screened, &[]), category: Some("instrument") },
    Indicator {
        id: "depression_positive",
        version: 1,
        formula: share(Positive, Screened, DEPRESSION),
        category: Some("instrument"),
    },
    Indicator { id: "anxiety_positive", version: 1, formula: share(Positive, Screened, &["gad7"]), category: None },
    Indicator { id: "somatic_positive", version: 1, formula: share(Positive, Screened, &["phq15"]), category: None },
    Indicator {
        id: "ptsd_positive",
        version: 1,
        formula: share(Positive, Screened, PTSD),
        category: Some("instrument"),
    },
    Indicator {
        id: "alcohol_positive",
        version: 1,
        formula: share(Positive, Screened, ALCOHOL),
        category: Some("instrument"),
    },
    Indicator { id: "cmd_positive", version: 1, formula: share(Positive, Screened, &["srq20"]), category: None },
    Indicator { id: "self_harm_flags", version: 1, formula: count(SelfHarm, &[]), category: Some("instrument") },
    Indicator { id: "disability", version: 1, formula: share(WgssDisability, Screened, &["wgss"]), category: None },
    Indicator {
        id: "disability_by_domain",
        version: 1,
        formula: count(WgssDomain, &[]),
        category: Some("wgss_domain"),
    },
    Indicator { id: "work_injuries", version: 1, formula: count(Injury, &[]), category: Some("injury_cause") },
    Indicator { id: "referrals_sent", version: 1, formula: count(ReferralSent, &[]), category: Some("sector") },
    Indicator { id: "referrals_accepted", version: 1, formula: count(ReferralAccepted, &[]), category: Some("sector") },
    Indicator { id: "referrals_attended", version: 1, formula: count(ReferralAttended, &[]), category: Some("sector") },
    Indicator {
        id: "referral_completion",
        version: 1,
        formula: share(ReferralAttended, ReferralSent, &[]),
        category: Some("sector"),
    },
    Indicator {
        id: "days_to_attendance",
        version: 1,
        formula: Formula::Median { of: Selector { metric: ReferralAttended, categories: &[] } },
        category: Some("sector"),
    },
    Indicator { id: "barriers", version: 1, formula: count(Barrier, &[]), category: Some("barrier") },
    Indicator { id: "lost_to_follow_up", version: 1, formula: count(Lost, &[]), category: None },
];

pub fn indicator(id: &str) -> Option<&'static Indicator> {
    CATALOGUE.iter().find(|i| i.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_codes_read_as_definitions() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|i| i.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len());
        assert_eq!(indicator("anxiety_positive").unwrap().code(), "count(positive[gad7]) / count(screened[gad7])");
    }

    #[test]
    fn metric_names_are_serde_names() {
        for m in Metric::ALL {
            assert_eq!(serde_json::to_value(m).unwrap(), serde_json::Value::String(m.as_str().to_owned()));
            assert_eq!(Metric::parse(m.as_str()), Some(m));
        }
        assert_eq!(Metric::parse("nonsense"), None);
    }
}
