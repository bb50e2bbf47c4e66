//! The suggested care pathway for one encounter, computed from rules kept in data
//! (`pathways/mhgap.toml`) that follow WHO mhGAP-IG 2.0. Red flags come first. It suggests; the
//! clinician decides, and the decision is recorded.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::instrument::Texts;
use crate::model::Screening;
use crate::org::{Lang, Sector};
use crate::referral::FollowUpKind;

/// What a rule suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Assess today, in person: red flags.
    UrgentAssessment,
    /// Refer to a specialist health service.
    ReferSpecialist,
    /// Manage in primary care.
    ManageInPrimaryCare,
    /// Refer to a non-health service (rehabilitation, social protection, livelihood).
    ReferNonHealth,
    /// Give further validated instruments.
    AssessFurther,
    /// Psychoeducation and routine care.
    Psychoeducation,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Self::UrgentAssessment,
        Self::ReferSpecialist,
        Self::ManageInPrimaryCare,
        Self::ReferNonHealth,
        Self::AssessFurther,
        Self::Psychoeducation,
    ];

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UrgentAssessment => "urgent_assessment",
            Self::ReferSpecialist => "refer_specialist",
            Self::ManageInPrimaryCare => "manage_in_primary_care",
            Self::ReferNonHealth => "refer_non_health",
            Self::AssessFurther => "assess_further",
            Self::Psychoeducation => "psychoeducation",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    #[serde(default)]
    pub flag: Option<String>,
    #[serde(default)]
    pub instrument: Option<String>,
    #[serde(default)]
    pub positive: Option<bool>,
    #[serde(default)]
    pub band_in: Option<Vec<String>>,
    #[serde(default)]
    pub total_at_least: Option<i64>,
    /// Values of the instrument's result, by JSON pointer (`/detail/intervention`): the rule fires
    /// when each pointed-to value is one of those listed (an instrument's own algorithm, such as
    /// the PHQ-9's depressive syndrome or the AUDIT's level of intervention).
    #[serde(default)]
    pub result_in: Option<std::collections::BTreeMap<String, Vec<serde_json::Value>>>,
    /// Fires when no other rule did.
    #[serde(default)]
    pub otherwise: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRule {
    pub kind: FollowUpKind,
    /// Days from the encounter to the first follow-up.
    pub days: i64,
    /// How many more follow-ups of the series, each `every_days` after the previous.
    #[serde(default)]
    pub repeat: u32,
    #[serde(default)]
    pub every_days: i64,
    /// Then this many more, each `then_every_days` after the previous (a slower series after the
    /// first, as mhGAP's self-harm follow-up: weekly, then every two to four weeks).
    #[serde(default)]
    pub then_repeat: u32,
    #[serde(default)]
    pub then_every_days: i64,
}

impl FollowUpRule {
    /// The days, counted from the encounter, of every follow-up of the series.
    pub fn schedule(&self) -> Vec<i64> {
        let mut days: Vec<i64> = (0..=i64::from(self.repeat)).map(|n| self.days + n * self.every_days.max(1)).collect();
        let last = days.last().copied().unwrap_or(self.days);
        days.extend((1..=i64::from(self.then_repeat)).map(|n| last + n * self.then_every_days.max(1)));
        days
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub when: When,
    pub action: Action,
    #[serde(default)]
    pub refer_to: Vec<Sector>,
    #[serde(default)]
    pub give: Vec<String>,
    /// Give the instruments the screening's own result names (the symptom review's `next`).
    #[serde(default)]
    pub give_from_result: bool,
    #[serde(default)]
    pub follow_up: Option<FollowUpRule>,
    pub why: Texts,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<Rule>,
}

/// One suggested step, with the rule that produced it and what in the results made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    pub rule: String,
    pub action: Action,
    pub refer_to: Vec<Sector>,
    pub give: Vec<String>,
    pub follow_up: Option<FollowUpRule>,
    pub why: String,
    pub because: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pathway {
    /// Red flags were raised: urgent steps come first and must not be missed.
    pub urgent: bool,
    pub flags: Vec<String>,
    pub steps: Vec<Step>,
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Action {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some([
                "urgent_assessment",
                "refer_specialist",
                "manage_in_primary_care",
                "refer_non_health",
                "assess_further",
                "psychoeducation",
            ]))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Action {}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for FollowUpRule {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .property("kind", <FollowUpKind as utoipa::PartialSchema>::schema())
            .property(
                "days",
                utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Integer),
            )
            .required("kind")
            .required("days")
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for FollowUpRule {}

/// The rules, parsed once from the embedded file.
pub fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        parse(include_str!("../../../pathways/mhgap.toml"))
            .unwrap_or_else(|e| panic!("pathways/mhgap.toml is invalid: {e}"))
    })
}

pub fn parse(text: &str) -> Result<Vec<Rule>, String> {
    let file: RuleFile = toml::from_str(text).map_err(|e| e.to_string())?;
    for rule in &file.rule {
        for (lang, t) in [("tg", &rule.why.tg), ("ru", &rule.why.ru), ("en", &rule.why.en)] {
            if t.trim().is_empty() {
                return Err(format!("rule {}: the {lang} text is empty", rule.id));
            }
        }
        for pointer in rule.when.result_in.iter().flat_map(|m| m.keys()) {
            if !pointer.starts_with('/') {
                return Err(format!("rule {}: result_in key `{pointer}` is not a JSON pointer (/detail/...)", rule.id));
            }
        }
        for id in &rule.give {
            if crate::instrument::catalog().get(id).is_none() {
                return Err(format!("rule {}: unknown instrument {id}", rule.id));
            }
        }
    }
    Ok(file.rule)
}

fn matches(when: &When, s: &Screening) -> Option<String> {
    if let Some(flag) = &when.flag {
        return s.outcome.flags.contains(flag).then(|| format!("{}: {flag}", s.instrument));
    }
    if when.instrument.as_deref() != Some(s.instrument.as_str()) {
        return None;
    }
    let o = &s.outcome;
    let ok = when.positive.is_none_or(|p| o.positive == Some(p))
        && when.band_in.as_ref().is_none_or(|bands| o.band.as_ref().is_some_and(|b| bands.contains(b)))
        && when.total_at_least.is_none_or(|t| o.total.is_some_and(|total| total >= t))
        && when
            .result_in
            .iter()
            .flatten()
            .all(|(pointer, any)| o.result.pointer(pointer).is_some_and(|v| any.contains(v)));
    ok.then(|| {
        let band = o.band.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
        let result: String = when
            .result_in
            .iter()
            .flatten()
            .filter_map(|(pointer, _)| {
                let key = pointer.rsplit('/').next().unwrap_or(pointer);
                o.result
                    .pointer(pointer)
                    .map(|v| format!(", {key} {}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            })
            .collect();
        format!("{} {}{band}{result}", s.instrument, o.total.map_or_else(String::new, |t| t.to_string()))
    })
}

/// The steps the rules suggest for an encounter's screenings: urgent ones first, then in the
/// order of the rule file.
pub fn suggest(screenings: &[Screening], lang: Lang) -> Pathway {
    let mut steps = Vec::new();
    for rule in rules().iter().filter(|r| !r.when.otherwise) {
        for s in screenings {
            if let Some(because) = matches(&rule.when, s) {
                let mut give = rule.give.clone();
                if rule.give_from_result
                    && let Some(next) = s.outcome.result.pointer("/detail/next").and_then(|n| n.as_array())
                {
                    give.extend(next.iter().filter_map(|v| v.as_str()).map(str::to_owned));
                }
                // Nothing to give that this encounter already gave.
                give.retain(|g| !screenings.iter().any(|s| &s.instrument == g));
                if rule.action == Action::AssessFurther && give.is_empty() {
                    continue;
                }
                steps.push(Step {
                    rule: rule.id.clone(),
                    action: rule.action,
                    refer_to: rule.refer_to.clone(),
                    give,
                    follow_up: rule.follow_up,
                    why: rule.why.get(lang).to_owned(),
                    because,
                    source: rule.source.clone(),
                });
            }
        }
    }
    if steps.is_empty()
        && let Some(rule) = rules().iter().find(|r| r.when.otherwise)
    {
        steps.push(Step {
            rule: rule.id.clone(),
            action: rule.action,
            refer_to: rule.refer_to.clone(),
            give: rule.give.clone(),
            follow_up: rule.follow_up,
            why: rule.why.get(lang).to_owned(),
            because: String::new(),
            source: rule.source.clone(),
        });
    }
    steps.sort_by_key(|s| s.action != Action::UrgentAssessment);
    let mut flags: Vec<String> = screenings.iter().flat_map(|s| s.outcome.flags.iter().cloned()).collect();
    flags.sort();
    flags.dedup();
    Pathway { urgent: !flags.is_empty(), flags, steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::{ScoreContext, catalog, parse_answers};
    use crate::person::Sex;

    fn screening(id: &str, answers: &str) -> Screening {
        let inst = catalog().get(id).unwrap();
        let ctx = ScoreContext { sex: Some(Sex::Male), ..ScoreContext::default() };
        let outcome = inst.score(&parse_answers(answers).unwrap(), &ctx).unwrap().into_outcome();
        Screening {
            id: uuid::Uuid::now_v7(),
            encounter_id: uuid::Uuid::nil(),
            person_id: uuid::Uuid::nil(),
            organisation_id: uuid::Uuid::nil(),
            user_id: None,
            encounter_at: 0,
            instrument: id.into(),
            instrument_version: "1.0".into(),
            lang: Lang::En,
            answers: vec![],
            outcome,
        }
    }

    #[test]
    fn the_rule_file_parses() {
        assert!(rules().len() >= 10);
        assert!(rules().iter().any(|r| r.when.otherwise));
    }

    #[test]
    fn self_harm_comes_first_even_with_a_low_total() {
        let p = suggest(&[screening("phq9", "0,0,0,0,0,0,0,0,1")], Lang::En);
        assert!(p.urgent);
        assert_eq!(p.flags, ["self_harm"]);
        assert_eq!(p.steps[0].action, Action::UrgentAssessment);
        let series = p.steps[0].follow_up.expect("a follow-up series");
        assert_eq!(series.kind, FollowUpKind::Call);
        // Weekly for the first two months, then every 2-4 weeks (mhGAP SUI 2.4).
        assert_eq!(series.schedule(), [7, 14, 21, 28, 35, 42, 49, 56, 84, 112]);
    }

    #[test]
    fn a_positive_depression_screen_is_managed_in_primary_care_with_a_rescreen() {
        let p = suggest(&[screening("phq9", "2,2,2,2,2,1,0,0,0")], Lang::Ru);
        assert!(!p.urgent);
        let step = p.steps.iter().find(|s| s.action == Action::ManageInPrimaryCare).expect("manage");
        assert_eq!(step.rule, "depression");
        assert_eq!(step.because, "phq9 11 (moderate)");
        assert!(step.follow_up.is_some_and(|f| (28..=42).contains(&f.days)));
        assert!(!step.why.is_empty());
    }

    #[test]
    fn a_disability_suggests_rehabilitation_and_social_protection() {
        let p = suggest(&[screening("wgss", "1,1,3,1,1,1")], Lang::En);
        let step = p.steps.iter().find(|s| s.action == Action::ReferNonHealth).expect("non-health referral");
        assert!(step.refer_to.contains(&Sector::Rehabilitation) && step.refer_to.contains(&Sector::SocialProtection));
    }

    #[test]
    fn instruments_already_given_are_not_suggested_again() {
        let sr = catalog().get("symptom_review").unwrap();
        let mut answers = vec!["0"; sr.items.len()];
        answers[0] = "1";
        let encounter = [screening("symptom_review", &answers.join(",")), screening("phq9", "0,0,0,0,0,0,0,0,0")];
        let p = suggest(&encounter, Lang::En);
        let step = p.steps.iter().find(|s| s.action == Action::AssessFurther).unwrap();
        assert_eq!(step.give, ["phq15"]);
    }

    #[test]
    fn the_symptom_review_points_to_its_instruments_and_nothing_found_means_routine_care() {
        let sr = catalog().get("symptom_review").unwrap();
        let mut answers = vec!["0"; sr.items.len()];
        answers[0] = "1";
        let p = suggest(&[screening("symptom_review", &answers.join(","))], Lang::En);
        let step = p.steps.iter().find(|s| s.action == Action::AssessFurther).unwrap();
        assert_eq!(step.give, ["phq9", "phq15"]);
        let p = suggest(&[screening("phq9", "0,0,0,0,0,0,0,0,0")], Lang::En);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].action, Action::Psychoeducation);
    }

    fn rule_ids(p: &Pathway) -> Vec<&str> {
        p.steps.iter().map(|s| s.rule.as_str()).collect()
    }

    #[test]
    fn the_audit_level_of_intervention_steps_up_for_dependence_signs_or_harm() {
        // Zone II by its total of 10, and no sign of dependence or harm: primary care.
        assert_eq!(rule_ids(&suggest(&[screening("audit", "2,2,2,1,1,1,1,0,0,0")], Lang::En)), ["alcohol_harmful"]);
        // Zone III (16) with 2 on item 6: one level up, to a specialist, with the withdrawal steps.
        let p = suggest(&[screening("audit", "3,3,3,1,1,2,1,0,2,0")], Lang::En);
        assert_eq!(rule_ids(&p), ["alcohol_dependence"]);
        assert!(p.steps[0].why.contains("thiamine") && p.steps[0].because.contains("specialist_referral"));
        // Zone I (4) with harm during the last year: simple advice, not nothing.
        assert_eq!(rule_ids(&suggest(&[screening("audit", "1,0,0,-,-,-,-,-,0,4")], Lang::En)), ["alcohol_harmful"]);
        // Zone I, no sign: no alcohol step.
        assert_eq!(rule_ids(&suggest(&[screening("audit", "1,0,0,-,-,-,-,-,0,2")], Lang::En)), ["routine"]);
        // Zone IV by the total alone.
        assert_eq!(rule_ids(&suggest(&[screening("audit", "4,4,4,4,0,0,0,0,4,4")], Lang::En)), ["alcohol_dependence"]);
    }

    #[test]
    fn a_major_depressive_syndrome_below_the_cut_off_still_leads_to_depression_care() {
        // Items 1-4 at "more than half the days" and item 9 at "several days": total 9, below 10,
        // but a core symptom and five symptoms present (item 9 also raises the self-harm flag).
        let p = suggest(&[screening("phq9", "2,2,2,2,0,0,0,0,1")], Lang::En);
        assert_eq!(rule_ids(&p), ["self_harm", "depression_syndrome"]);
        // At 10 or more the cut-off rule answers alone.
        assert_eq!(rule_ids(&suggest(&[screening("phq9", "2,2,2,2,2,0,0,0,0")], Lang::En)), ["depression"]);
        // Four symptoms: other depressive syndrome, no depression step.
        assert_eq!(rule_ids(&suggest(&[screening("phq9", "2,2,2,2,0,0,0,0,0")], Lang::En)), ["routine"]);
    }

    #[test]
    fn a_result_condition_must_be_a_json_pointer() {
        let text = r#"
[[rule]]
id = "x"
when = { instrument = "audit", result_in = { "detail.intervention" = ["simple_advice"] } }
action = "psychoeducation"
source = "s"
why = { en = "a", ru = "b", tg = "c" }
"#;
        assert!(parse(text).unwrap_err().contains("not a JSON pointer"));
    }
}
