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
}

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

pub(super) fn detail<'a>(instrument: &'a Instrument, rule: DetailRule, values: &[i64], lang: Lang) -> Detail<'a> {
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
