//! Instrument-specific results reported beside the total. Each algorithm cites its source.

use serde::Serialize;

use super::definition::{DetailRule, Instrument};
use crate::org::Lang;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Detail<'a> {
    Phq9(Phq9Syndrome),
    Pcl5(Pcl5Clusters<'a>),
    Wgss(WgssDomains<'a>),
    Phq15(Phq15Detail),
    Checklist(ChecklistResult<'a>),
    Audit(AuditIntervention),
}

/// The AUDIT's level of intervention (Babor et al. 2001, WHO/MSD/MSB/01.6a, Table 6 and its
/// notes): the risk zone of the total (I-IV, the bands in order), and one level higher, whatever
/// the total, for 2 or more on any of items 4-6 (signs of dependence) or 4 on item 9 or 10 (harm
/// during the last year). Zone I: alcohol education; II: simple advice; III: simple advice plus
/// brief counselling and continued monitoring; IV: referral to a specialist for diagnostic
/// evaluation and treatment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditIntervention {
    /// The zone of the total: `I` to `IV`.
    pub zone_of_total: &'static str,
    /// The zone whose intervention is recommended: the total's, or the next higher.
    pub zone: &'static str,
    /// `alcohol_education`, `simple_advice`, `brief_counselling` or `specialist_referral`.
    pub intervention: &'static str,
    pub stepped_up: bool,
    /// Why it was stepped up: `dependence_signs` (items 4-6), `harm_experienced` (items 9-10).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<&'static str>,
}

const AUDIT_ZONES: [(&str, &str); 4] =
    [("I", "alcohol_education"), ("II", "simple_advice"), ("III", "brief_counselling"), ("IV", "specialist_referral")];

/// PHQ-9 diagnostic algorithm (Spitzer, Kroenke & Williams 1999; Kroenke & Spitzer 2002): an item
/// counts as present at "more than half the days" or more, item 9 at "several days" or more;
/// items 1 and 2 are the core symptoms. Major depressive syndrome: a core symptom and five or more
/// present; other depressive syndrome: a core symptom and two to four present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Phq9Syndrome {
    pub items_present: i64,
    pub core_symptom_present: bool,
    pub major_depressive_syndrome: bool,
    pub other_depressive_syndrome: bool,
    /// Item 10, how difficult the problems made work, home and getting along with people (0 not
    /// difficult at all to 3 extremely difficult); not scored, absent when not answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<i64>,
}

/// PCL-5 provisional DSM-5 diagnosis (Weathers et al. 2013, National Center for PTSD): an item
/// rated 2 ("moderately") or higher is an endorsed symptom; it needs one B item (1-5), one C item
/// (6-7), two D items (8-14) and two E items (15-20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pcl5Clusters<'a> {
    pub clusters: Vec<Cluster<'a>>,
    pub dsm5_provisional_ptsd: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cluster<'a> {
    pub cluster: &'a str,
    pub severity: i64,
    pub symptoms: i64,
    pub needed: i64,
    pub met: bool,
}

/// WG-SS: each domain's answer, and the three-way split (none / some / a lot or unable)
/// recommended for reporting by Hanass-Hancock et al. 2023.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WgssDomains<'a> {
    pub domains: Vec<DomainDifficulty<'a>>,
    pub level: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainDifficulty<'a> {
    pub domain: &'a str,
    pub value: i64,
    pub difficulty: &'a str,
}

/// PHQ-15: how many symptoms bother the person "a lot" (Kroenke, Spitzer & Williams 2002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Phq15Detail {
    pub bothered_a_lot: i64,
}

/// A checklist's domains present, and the validated instruments its rules say to give next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistResult<'a> {
    pub domains: Vec<&'a str>,
    pub next: Vec<&'a str>,
    pub reasons: Vec<Reason<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason<'a> {
    pub give: &'a [String],
    pub why: &'a str,
    pub source: &'a str,
}

/// What `detail` reads: the values items count as, and the answers as given (optional items
/// left unanswered are `None` or absent).
pub(super) struct Answered<'v> {
    pub values: &'v [i64],
    pub given: &'v [Option<i64>],
}

pub(super) fn detail<'a>(
    instrument: &'a Instrument,
    rule: DetailRule,
    answered: Answered<'_>,
    lang: Lang,
) -> Detail<'a> {
    let values = answered.values;
    match rule {
        DetailRule::Phq9DepressiveSyndrome => {
            let present = |n: usize| values[n] >= if n == 8 { 1 } else { 2 };
            let items_present = (0..values.len().min(9)).filter(|n| present(*n)).count() as i64;
            let core = present(0) || present(1);
            Detail::Phq9(Phq9Syndrome {
                items_present,
                core_symptom_present: core,
                major_depressive_syndrome: core && items_present >= 5,
                other_depressive_syndrome: core && (2..=4).contains(&items_present),
                difficulty: answered.given.get(9).copied().flatten(),
            })
        }
        DetailRule::Pcl5Dsm5Clusters => {
            let needed = |cluster: &str| if matches!(cluster, "D" | "E") { 2 } else { 1 };
            let clusters: Vec<Cluster<'a>> = instrument
                .domains()
                .iter()
                .enumerate()
                .map(|(d, cluster)| {
                    let items =
                        || values.iter().zip(&instrument.compiled.item_domain).filter(move |(_, dom)| **dom == Some(d));
                    let symptoms = items().filter(|(v, _)| **v >= 2).count() as i64;
                    let needed = needed(cluster);
                    Cluster {
                        cluster,
                        severity: items().map(|(v, _)| *v).sum(),
                        symptoms,
                        needed,
                        met: symptoms >= needed,
                    }
                })
                .collect();
            let all = clusters.len() == 4 && clusters.iter().all(|c| c.met);
            Detail::Pcl5(Pcl5Clusters { clusters, dsm5_provisional_ptsd: all })
        }
        DetailRule::WgssDomains => {
            let domains: Vec<DomainDifficulty<'a>> = instrument
                .items
                .iter()
                .zip(values)
                .map(|(item, v)| DomainDifficulty {
                    domain: item.domain.as_deref().unwrap_or(&item.id),
                    value: *v,
                    difficulty: instrument.response_sets[&item.response_set]
                        .options
                        .iter()
                        .find(|o| o.value == *v)
                        .and_then(|o| o.code.as_deref())
                        .unwrap_or(""),
                })
                .collect();
            let worst = values.iter().copied().max().unwrap_or(1);
            let level = match worst {
                ..=1 => "none",
                2 => "some",
                _ => "a_lot_or_unable",
            };
            Detail::Wgss(WgssDomains { domains, level })
        }
        DetailRule::Phq15BotheredALot => {
            Detail::Phq15(Phq15Detail { bothered_a_lot: values.iter().filter(|v| **v == 2).count() as i64 })
        }
        DetailRule::AuditIntervention => {
            let total: i64 = values.iter().sum();
            let by_total = instrument
                .bands
                .iter()
                .position(|b| b.min.is_some_and(|m| total >= m) && b.max.is_some_and(|m| total <= m))
                .unwrap_or(0)
                .min(AUDIT_ZONES.len() - 1);
            let mut why = Vec::new();
            // Items 4-6 and 9-10 are values[3..6] and values[8..10].
            if values.get(3..6).is_some_and(|v| v.iter().any(|v| *v >= 2)) {
                why.push("dependence_signs");
            }
            if values.get(8..10).is_some_and(|v| v.contains(&4)) {
                why.push("harm_experienced");
            }
            let zone = if why.is_empty() { by_total } else { (by_total + 1).min(AUDIT_ZONES.len() - 1) };
            Detail::Audit(AuditIntervention {
                zone_of_total: AUDIT_ZONES[by_total].0,
                zone: AUDIT_ZONES[zone].0,
                intervention: AUDIT_ZONES[zone].1,
                stepped_up: zone > by_total,
                why,
            })
        }
        DetailRule::Checklist => {
            let at_least = instrument.scoring.item_at_least.unwrap_or(1);
            let c = &instrument.compiled;
            let mut domains: Vec<&'a str> = Vec::new();
            for (n, v) in values.iter().enumerate() {
                if c.scored[n]
                    && *v >= at_least
                    && let Some(d) = c.item_domain[n]
                {
                    let name = c.domains[d].as_str();
                    if !domains.contains(&name) {
                        domains.push(name);
                    }
                }
            }
            let mut next: Vec<&'a str> = Vec::new();
            let mut reasons = Vec::new();
            for rule in &instrument.next {
                let fires = rule.when_domain.as_deref().is_some_and(|d| domains.contains(&d))
                    || rule
                        .when_item
                        .as_deref()
                        .and_then(|i| instrument.item_index(i))
                        .is_some_and(|n| values[n] >= at_least);
                if fires {
                    for give in &rule.give {
                        if !next.contains(&give.as_str()) {
                            next.push(give);
                        }
                    }
                    reasons.push(Reason { give: &rule.give, why: rule.why.get(lang), source: &rule.source });
                }
            }
            Detail::Checklist(ChecklistResult { domains, next, reasons })
        }
    }
}
