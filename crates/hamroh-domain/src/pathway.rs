//! The suggested care pathway for one encounter, computed from rules kept in data
//! (`pathways/mhgap.toml`) that follow WHO mhGAP-IG 2.0. Red flags come first. It suggests; the
//! clinician decides, and the decision is recorded.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::instrument::{Texts, catalog};
use crate::migration::ReturnReason;
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
    /// Assess physical causes before complaints are put down to stress.
    MedicalAssessment,
    /// Give further validated instruments.
    AssessFurther,
    /// Psychoeducation and routine care.
    Psychoeducation,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Self::UrgentAssessment,
        Self::ReferSpecialist,
        Self::ManageInPrimaryCare,
        Self::ReferNonHealth,
        Self::MedicalAssessment,
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
            Self::MedicalAssessment => "medical_assessment",
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
    pub result_in: Option<BTreeMap<String, Vec<serde_json::Value>>>,
    /// Answers to single items, named `instrument/item`: the rule fires once for the encounter
    /// when any named item was answered with at least its value (signs seen, a chest pain
    /// reported), whichever of the instruments was given.
    #[serde(default)]
    pub any_item_at_least: Option<BTreeMap<String, i64>>,
    /// What the person's record says beyond this encounter; fires once for the encounter.
    #[serde(default)]
    pub record: Option<RecordWhen>,
    /// Fires when no other rule did.
    #[serde(default)]
    pub otherwise: bool,
}

impl When {
    /// Whether the rule looks at the encounter as a whole (single items of any instrument, the
    /// person's record) and so fires at most once, rather than once per screening.
    fn once_per_encounter(&self) -> bool {
        self.any_item_at_least.is_some() || self.record.is_some()
    }
}

/// A condition on the person's record: each given field must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordWhen {
    /// A work injury is recorded on a stay abroad.
    #[serde(default)]
    pub work_injury: Option<bool>,
    /// A stay abroad ended for one of these reasons.
    #[serde(default)]
    pub returned_after: Option<Vec<ReturnReason>>,
}

/// What Hamroh knows of the person beyond the encounter that rules may use: the recorded stays
/// abroad. Read with the encounter, from the same record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Circumstances {
    /// A work injury is recorded on one of the stays abroad.
    pub work_injury: bool,
    /// Why each recorded stay abroad ended, where it is known.
    pub returned_after: Vec<ReturnReason>,
}

impl Circumstances {
    /// Why the record condition holds, in the words of `because`, or `None` when it does not.
    fn satisfy(&self, when: &RecordWhen) -> Option<String> {
        let mut because = Vec::new();
        if let Some(injury) = when.work_injury {
            if self.work_injury != injury {
                return None;
            }
            because.push(if injury { "work injury recorded".to_owned() } else { "no work injury".to_owned() });
        }
        if let Some(reasons) = &when.returned_after {
            let found: Vec<&str> =
                self.returned_after.iter().filter(|r| reasons.contains(r)).map(|r| r.as_str()).collect();
            if found.is_empty() {
                return None;
            }
            because.push(format!("returned after {}", found.join(", ")));
        }
        Some(format!("record: {}", because.join(", ")))
    }
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
                "medical_assessment",
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
            if catalog().get(id).is_none() {
                return Err(format!("rule {}: unknown instrument {id}", rule.id));
            }
        }
        for named in rule.when.any_item_at_least.iter().flat_map(|m| m.keys()) {
            let known = named
                .split_once('/')
                .and_then(|(i, item)| catalog().get(i).map(|inst| inst.item_index(item).is_some()));
            if known != Some(true) {
                return Err(format!("rule {}: `{named}` is not an instrument/item Hamroh knows", rule.id));
            }
        }
        let once = rule.when.once_per_encounter();
        if once && (rule.when.instrument.is_some() || rule.when.flag.is_some()) {
            return Err(format!(
                "rule {}: any_item_at_least and record stand alone, without instrument or flag",
                rule.id
            ));
        }
    }
    Ok(file.rule)
}

/// The items named in `any_item_at_least` that this screening answered at their value or more.
fn items_seen(named: &BTreeMap<String, i64>, s: &Screening) -> Vec<String> {
    let Some(inst) = catalog().get(&s.instrument) else { return Vec::new() };
    named
        .iter()
        .filter_map(|(key, at_least)| {
            let (instrument, item) = key.split_once('/')?;
            let n = (instrument == s.instrument).then(|| inst.item_index(item)).flatten()?;
            s.answers.get(n).copied().flatten().is_some_and(|v| v >= *at_least).then(|| key.clone())
        })
        .collect()
}

/// Why a rule that fires once for the encounter (signs seen, the record) fires, if it does.
fn fires_once(when: &When, screenings: &[Screening], circumstances: &Circumstances) -> Option<String> {
    let mut because = Vec::new();
    if let Some(named) = &when.any_item_at_least {
        let seen: Vec<String> = screenings.iter().flat_map(|s| items_seen(named, s)).collect();
        if seen.is_empty() {
            return None;
        }
        because.push(seen.join(", "));
    }
    if let Some(record) = &when.record {
        because.push(circumstances.satisfy(record)?);
    }
    Some(because.join("; "))
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
pub fn suggest(screenings: &[Screening], circumstances: &Circumstances, lang: Lang) -> Pathway {
    let mut steps = Vec::new();
    let asked = crate::safety::asked_about_self_harm(screenings);
    for rule in rules().iter().filter(|r| !r.when.otherwise) {
        let once = rule.when.once_per_encounter();
        let fired: Vec<(String, Option<&Screening>)> = if once {
            fires_once(&rule.when, screenings, circumstances).map(|b| (b, None)).into_iter().collect()
        } else {
            screenings.iter().filter_map(|s| matches(&rule.when, s).map(|b| (b, Some(s)))).collect()
        };
        for (because, s) in fired {
            let mut give = rule.give.clone();
            if rule.give_from_result
                && let Some(next) = s.and_then(|s| s.outcome.result.pointer("/detail/next")).and_then(|n| n.as_array())
            {
                give.extend(next.iter().filter_map(|v| v.as_str()).map(str::to_owned));
            }
            // Nothing to give that this encounter already gave, and no self-harm questions
            // where it already asked about self-harm.
            let given = |g: &String| screenings.iter().any(|s| &s.instrument == g);
            give.retain(|g| !(given(g) || asked && g == crate::safety::QUESTIONS));
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
    // Urgent steps first, then the physical causes to rule out; otherwise the rule file's order.
    steps.sort_by_key(|s| match s.action {
        Action::UrgentAssessment => 0,
        Action::MedicalAssessment => 1,
        _ => 2,
    });
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
        let answers = parse_answers(answers).unwrap();
        let outcome = inst.score(&answers, &ctx).unwrap().into_outcome();
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
            answers,
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
        let p = suggest(&[screening("phq9", "0,0,0,0,0,0,0,0,1")], &none(), Lang::En);
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
        let p = suggest(&[screening("phq9", "2,2,2,2,2,1,0,0,0")], &none(), Lang::Ru);
        assert!(!p.urgent);
        let step = p.steps.iter().find(|s| s.action == Action::ManageInPrimaryCare).expect("manage");
        assert_eq!(step.rule, "depression");
        assert_eq!(step.because, "phq9 11 (moderate)");
        assert!(step.follow_up.is_some_and(|f| (28..=42).contains(&f.days)));
        assert!(!step.why.is_empty());
    }

    #[test]
    fn a_disability_suggests_rehabilitation_and_social_protection() {
        let p = suggest(&[screening("wgss", "1,1,3,1,1,1")], &none(), Lang::En);
        let step = p.steps.iter().find(|s| s.action == Action::ReferNonHealth).expect("non-health referral");
        assert!(step.refer_to.contains(&Sector::Rehabilitation) && step.refer_to.contains(&Sector::SocialProtection));
    }

    #[test]
    fn instruments_already_given_are_not_suggested_again() {
        let sr = catalog().get("symptom_review").unwrap();
        let mut answers = vec!["0"; sr.items.len()];
        answers[0] = "1";
        let encounter = [screening("symptom_review", &answers.join(",")), screening("phq9", "0,0,0,0,0,0,0,0,0")];
        let p = suggest(&encounter, &none(), Lang::En);
        let step = p.steps.iter().find(|s| s.action == Action::AssessFurther).unwrap();
        assert_eq!(step.give, ["phq15"]);
    }

    #[test]
    fn the_symptom_review_points_to_its_instruments_and_nothing_found_means_routine_care() {
        let sr = catalog().get("symptom_review").unwrap();
        let mut answers = vec!["0"; sr.items.len()];
        answers[0] = "1";
        let p = suggest(&[screening("symptom_review", &answers.join(","))], &none(), Lang::En);
        let step = p.steps.iter().find(|s| s.action == Action::AssessFurther).unwrap();
        assert_eq!(step.give, ["phq9", "phq15"]);
        let p = suggest(&[screening("phq9", "0,0,0,0,0,0,0,0,0")], &none(), Lang::En);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].action, Action::Psychoeducation);
    }

    fn none() -> Circumstances {
        Circumstances::default()
    }

    fn rule_ids(p: &Pathway) -> Vec<&str> {
        p.steps.iter().map(|s| s.rule.as_str()).collect()
    }

    #[test]
    fn the_audit_level_of_intervention_steps_up_for_dependence_signs_or_harm() {
        // Zone II by its total of 10, and no sign of dependence or harm: primary care.
        assert_eq!(
            rule_ids(&suggest(&[screening("audit", "2,2,2,1,1,1,1,0,0,0")], &none(), Lang::En)),
            ["alcohol_harmful"]
        );
        // Zone III (16) with 2 on item 6: one level up, to a specialist, with the withdrawal steps.
        let p = suggest(&[screening("audit", "3,3,3,1,1,2,1,0,2,0")], &none(), Lang::En);
        assert_eq!(rule_ids(&p), ["alcohol_dependence"]);
        assert!(p.steps[0].why.contains("thiamine") && p.steps[0].because.contains("specialist_referral"));
        // Zone I (4) with harm during the last year: simple advice, not nothing.
        assert_eq!(
            rule_ids(&suggest(&[screening("audit", "1,0,0,-,-,-,-,-,0,4")], &none(), Lang::En)),
            ["alcohol_harmful"]
        );
        // Zone I, no sign: no alcohol step.
        assert_eq!(rule_ids(&suggest(&[screening("audit", "1,0,0,-,-,-,-,-,0,2")], &none(), Lang::En)), ["routine"]);
        // Zone IV by the total alone.
        assert_eq!(
            rule_ids(&suggest(&[screening("audit", "4,4,4,4,0,0,0,0,4,4")], &none(), Lang::En)),
            ["alcohol_dependence"]
        );
    }

    #[test]
    fn a_major_depressive_syndrome_below_the_cut_off_still_leads_to_depression_care() {
        // Items 1-4 at "more than half the days" and item 9 at "several days": total 9, below 10,
        // but a core symptom and five symptoms present (item 9 also raises the self-harm flag).
        let p = suggest(&[screening("phq9", "2,2,2,2,0,0,0,0,1")], &none(), Lang::En);
        assert_eq!(rule_ids(&p), ["self_harm", "depression_syndrome"]);
        // At 10 or more the cut-off rule answers alone.
        assert_eq!(rule_ids(&suggest(&[screening("phq9", "2,2,2,2,2,0,0,0,0")], &none(), Lang::En)), ["depression"]);
        // Four symptoms: other depressive syndrome, no depression step.
        assert_eq!(rule_ids(&suggest(&[screening("phq9", "2,2,2,2,0,0,0,0,0")], &none(), Lang::En)), ["routine"]);
    }

    /// The clinician's observations with these signs marked, the others "no".
    fn observed(signs: &[&str]) -> Screening {
        let inst = catalog().get("observations").unwrap();
        let answers: Vec<&str> =
            inst.items.iter().map(|i| if signs.contains(&i.id.as_str()) { "1" } else { "0" }).collect();
        screening("observations", &answers.join(","))
    }

    #[test]
    fn each_sign_seen_leads_to_its_mhgap_module() {
        for (sign, rule, action) in [
            ("psychosis", "psychosis", Action::ReferSpecialist),
            ("mania", "psychosis", Action::ReferSpecialist),
            ("seizures", "epilepsy", Action::ManageInPrimaryCare),
            ("memory", "dementia", Action::ManageInPrimaryCare),
            ("drug_use", "drug_use", Action::ReferSpecialist),
            ("convulsing", "emergency", Action::UrgentAssessment),
            ("agitated", "emergency", Action::UrgentAssessment),
            ("intoxicated", "emergency", Action::UrgentAssessment),
            ("withdrawal", "emergency", Action::UrgentAssessment),
            ("weight_loss", "physical_red_flags", Action::MedicalAssessment),
            ("haemoptysis", "physical_red_flags", Action::MedicalAssessment),
        ] {
            let p = suggest(&[observed(&[sign])], &none(), Lang::En);
            assert_eq!(rule_ids(&p), [rule], "{sign}");
            assert_eq!(p.steps[0].action, action, "{sign}");
            assert_eq!(p.steps[0].because, format!("observations/{sign}"));
        }
        // Nothing seen: routine care, no step from the list.
        assert_eq!(rule_ids(&suggest(&[observed(&[])], &none(), Lang::En)), ["routine"]);
        // Two signs of one rule give one step naming both.
        let p = suggest(&[observed(&["fever", "injury"])], &none(), Lang::En);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].because, "observations/fever, observations/injury");
    }

    #[test]
    fn physical_causes_come_before_the_stress_they_might_be_mistaken_for() {
        // PHQ-15 of 10 with chest pain "bothered a little": assess the chest pain first.
        let phq15 = screening("phq15", "2,2,2,-,2,1,1,0,0,0,0,0,0,0,0");
        let p = suggest(std::slice::from_ref(&phq15), &none(), Lang::En);
        assert_eq!(rule_ids(&p), ["physical_red_flags", "somatic"]);
        assert_eq!(p.steps[0].because, "phq15/6");
        // Chest pain "not bothered at all": no medical step.
        let no_chest = screening("phq15", "2,2,2,-,2,0,2,0,0,0,0,0,0,0,0");
        assert_eq!(rule_ids(&suggest(&[no_chest], &none(), Lang::En)), ["somatic"]);
        // Seen urgent signs stay first, before the medical assessment.
        let p = suggest(&[phq15, observed(&["agitated"])], &none(), Lang::En);
        assert_eq!(rule_ids(&p), ["emergency", "physical_red_flags", "somatic"]);
    }

    #[test]
    fn chronic_pain_asks_about_self_harm_unless_the_encounter_did() {
        let p = suggest(&[observed(&["chronic_pain"])], &none(), Lang::En);
        assert_eq!(rule_ids(&p), ["chronic_pain"]);
        assert_eq!(p.steps[0].give, [crate::safety::QUESTIONS]);
        // The PHQ-9 asked (item 9): no second question.
        let asked = [observed(&["chronic_pain"]), screening("phq9", "0,0,0,0,0,0,0,0,0")];
        assert_eq!(rule_ids(&suggest(&asked, &none(), Lang::En)), ["routine"]);
    }

    #[test]
    fn the_record_adds_what_a_returnee_needs_beyond_the_clinic() {
        let phq9 = [screening("phq9", "0,0,0,0,0,0,0,0,0")];
        let injured = Circumstances { work_injury: true, returned_after: vec![] };
        let p = suggest(&phq9, &injured, Lang::En);
        assert_eq!(rule_ids(&p), ["work_injury"]);
        assert!(p.steps[0].refer_to.contains(&Sector::Rehabilitation));
        assert!(p.steps[0].refer_to.contains(&Sector::SocialProtection));
        assert_eq!(p.steps[0].because, "record: work injury recorded");
        for reason in [ReturnReason::EntryBan, ReturnReason::Deportation] {
            let banned = Circumstances { work_injury: false, returned_after: vec![ReturnReason::Family, reason] };
            let p = suggest(&phq9, &banned, Lang::Tg);
            assert_eq!(rule_ids(&p), ["entry_ban"]);
            assert_eq!(p.steps[0].refer_to, [Sector::LegalAid, Sector::Employment]);
        }
        let ordinary = Circumstances { work_injury: false, returned_after: vec![ReturnReason::EndOfWork] };
        assert_eq!(rule_ids(&suggest(&phq9, &ordinary, Lang::En)), ["routine"]);
    }

    #[test]
    fn an_item_condition_must_name_an_item_hamroh_knows() {
        let text = r#"
[[rule]]
id = "x"
when = { any_item_at_least = { "observations/nosuch" = 1 } }
action = "psychoeducation"
source = "s"
why = { en = "a", ru = "b", tg = "c" }
"#;
        assert!(parse(text).unwrap_err().contains("not an instrument/item"));
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
