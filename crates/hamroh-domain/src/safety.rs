//! The safety assessment of a self-harm flag, as WHO's mhGAP Intervention Guide 2.0 sets it out
//! (module SUI, "Self-harm/suicide"; cited by section below, since page numbers differ between
//! printings and translations): ask about thoughts, plans and acts of
//! self-harm; decide whether the risk is imminent; counsel on restricting the means; agree a
//! safety plan; and act on the risk. A red flag leaves the worklist only through an assessment,
//! or through a recorded reason why none could be done.

use serde::Serialize;

use crate::code_enum;

/// The flags that a safety assessment answers (the instruments' `[[flags]]`).
pub const FLAGS: &[&str] = &["self_harm"];

code_enum!(
    /// What the clinician did about the risk (mhGAP-IG 2.0, SUI 2: management).
    /// `stay_and_arrange_urgent_care`: imminent risk; stay with the person, remove the means,
    /// arrange urgent care by a mental health specialist (SUI 2.1; evidence recommendation SUI 6).
    /// `refer`: a specialist service without imminent risk. `manage_in_primary_care`:
    /// psychosocial support, regular contact and follow-up (SUI 2.2, 2.4; recommendations SUI 2-5).
    SafetyAction: "safety action" {
        StayAndArrangeUrgentCare = "stay_and_arrange_urgent_care",
        Refer = "refer",
        ManageInPrimaryCare = "manage_in_primary_care",
    }
);

code_enum!(
    /// Why no assessment could be made (`unreachable`: not reached after the tries recorded).
    NotPossible: "reason no assessment was possible" {
        Refused = "refused",
        Unreachable = "unreachable",
        Died = "died",
        Moved = "moved",
    }
);

code_enum!(
    /// Why a clinician did not ask about self-harm: the person declined to answer, or could not
    /// answer (too unwell, intoxicated, unable to communicate).
    NotAsked: "reason self-harm was not asked" {
        Declined = "declined",
        Unable = "unable",
    }
);

/// Whether an encounter asked the person directly about self-harm: one of its instruments has a
/// self-harm question (an item behind a `self_harm` flag: the symptom review's, PHQ-9 item 9,
/// SRQ-20 item 17) and it was answered. mhGAP SUI 1 asks everyone with a priority condition,
/// chronic pain or acute distress; PHQ-2, GAD-7 and PHQ-15 ask nothing of the kind.
pub fn asked_about_self_harm<'a>(screenings: impl IntoIterator<Item = &'a crate::model::Screening>) -> bool {
    screenings.into_iter().any(|s| {
        let Some(instrument) = crate::instrument::catalog().get(&s.instrument) else { return false };
        instrument.flags.iter().filter(|f| f.id == "self_harm").any(|f| {
            instrument
                .items
                .iter()
                .position(|i| i.id == f.item)
                .is_some_and(|n| s.answers.get(n).copied().flatten().is_some())
        })
    })
}

/// Whether an instrument has a direct self-harm question (an item behind a `self_harm` flag).
pub fn asks_about_self_harm(instrument: &crate::instrument::Instrument) -> bool {
    instrument.flags.iter().any(|f| f.id == "self_harm")
}

/// The questions a clinic encounter adds when none of its instruments asks about self-harm.
pub const QUESTIONS: &str = "self_harm_questions";

/// Tries to reach a person before "could not be reached" may close a flag: mhGAP asks for a
/// follow-up contact that is kept; Hamroh asks for three recorded tries (a deployment rule, not
/// a clinical cut-off).
pub const MIN_ATTEMPTS: u32 = 3;

/// The assessment as recorded, or why none could be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SafetyRecord {
    Assessed(Assessment),
    NotPossible { reason: NotPossible, attempts: u32, note: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// Current thoughts of self-harm or suicide.
    pub thoughts: bool,
    /// A plan of self-harm or suicide.
    pub plan: bool,
    /// An act of self-harm in the past year.
    pub act_past_year: bool,
    /// Imminent risk as mhGAP defines it (SUI 1, assessment): current thoughts, plan or act, or a
    /// history of them in a person now extremely agitated, violent, distressed or uncommunicative.
    pub imminent_risk: bool,
    /// Counselled on removing access to means of self-harm.
    pub means_counselled: bool,
    /// Who to call, where to go, what helps, who is told (with the person's consent).
    pub safety_plan: String,
    pub action: SafetyAction,
    pub note: Option<String>,
}

impl Assessment {
    /// Any thoughts, plan or act: mhGAP then asks for means counselling and a safety plan.
    pub fn any_risk(&self) -> bool {
        self.thoughts || self.plan || self.act_past_year
    }
}

/// What the clinician sent, every field as it came (a form or JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssessmentInput {
    pub flag: String,
    pub thoughts: Option<bool>,
    pub plan: Option<bool>,
    pub act_past_year: Option<bool>,
    pub imminent_risk: Option<bool>,
    pub means_counselled: Option<bool>,
    pub safety_plan: Option<String>,
    pub action: Option<String>,
    pub note: Option<String>,
    pub not_possible: Option<String>,
    pub attempts: Option<u32>,
}

/// A problem with one field: its name and a Fluent message id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: &'static str,
    pub code: &'static str,
}

/// Why an input is not a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// The flag is not one an assessment answers.
    UnknownFlag(String),
    /// Fields missing or contradicting each other, each named.
    Fields(Vec<FieldProblem>),
}

const TEXT_LIMIT: usize = 4_000;

impl AssessmentInput {
    /// The record this input makes, or every problem with it at once.
    pub fn parse(&self) -> Result<SafetyRecord, InputError> {
        if !FLAGS.contains(&self.flag.as_str()) {
            return Err(InputError::UnknownFlag(self.flag.clone()));
        }
        let note = self.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        let mut problems = Vec::new();
        let mut problem = |field, code| problems.push(FieldProblem { field, code });
        if note.as_ref().is_some_and(|n| n.chars().count() > TEXT_LIMIT) {
            problem("note", "error-too-long");
        }
        if let Some(reason) = self.not_possible.as_deref().filter(|r| !r.is_empty()) {
            let Ok(reason) = reason.parse::<NotPossible>() else {
                problem("not_possible", "error-choose");
                return Err(InputError::Fields(problems));
            };
            let attempts = self.attempts.unwrap_or(0);
            if reason == NotPossible::Unreachable && attempts < MIN_ATTEMPTS {
                problem("attempts", "safety-error-attempts");
            }
            if reason != NotPossible::Died && note.is_none() {
                problem("note", "safety-error-note");
            }
            return if problems.is_empty() {
                Ok(SafetyRecord::NotPossible { reason, attempts, note })
            } else {
                Err(InputError::Fields(problems))
            };
        }
        let mut answer = |field: &'static str, value: Option<bool>| {
            if value.is_none() {
                problems.push(FieldProblem { field, code: "error-choose" });
            }
            value.unwrap_or(false)
        };
        let thoughts = answer("thoughts", self.thoughts);
        let plan = answer("plan", self.plan);
        let act_past_year = answer("act_past_year", self.act_past_year);
        let imminent_risk = answer("imminent_risk", self.imminent_risk);
        let means_counselled = answer("means_counselled", self.means_counselled);
        let safety_plan = self.safety_plan.as_deref().unwrap_or_default().trim().to_owned();
        let action = match self.action.as_deref().map(str::parse::<SafetyAction>) {
            Some(Ok(a)) => Some(a),
            _ => {
                problems.push(FieldProblem { field: "action", code: "error-choose" });
                None
            }
        };
        if plan && !thoughts {
            problems.push(FieldProblem { field: "plan", code: "safety-error-plan-without-thoughts" });
        }
        // mhGAP's imminent risk rests on thoughts or a plan, or an act in the past year.
        if imminent_risk && !(thoughts || plan || act_past_year) {
            problems.push(FieldProblem { field: "imminent_risk", code: "safety-error-imminent-without-risk" });
        }
        if imminent_risk && action.is_some_and(|a| a != SafetyAction::StayAndArrangeUrgentCare) {
            problems.push(FieldProblem { field: "action", code: "safety-error-imminent-action" });
        }
        if (thoughts || plan || act_past_year) && safety_plan.is_empty() {
            problems.push(FieldProblem { field: "safety_plan", code: "safety-error-plan-needed" });
        }
        // Evidence recommendation SUI 2: restricting access to means for anyone with thoughts,
        // plans or acts of self-harm, not only at imminent risk.
        if (thoughts || plan || act_past_year) && !means_counselled && self.means_counselled.is_some() {
            problems.push(FieldProblem { field: "means_counselled", code: "safety-error-means-needed" });
        }
        if safety_plan.chars().count() > TEXT_LIMIT {
            problems.push(FieldProblem { field: "safety_plan", code: "error-too-long" });
        }
        match action {
            Some(action) if problems.is_empty() => Ok(SafetyRecord::Assessed(Assessment {
                thoughts,
                plan,
                act_past_year,
                imminent_risk,
                means_counselled,
                safety_plan,
                action,
                note,
            })),
            _ => Err(InputError::Fields(problems)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> AssessmentInput {
        AssessmentInput {
            flag: "self_harm".into(),
            thoughts: Some(true),
            plan: Some(false),
            act_past_year: Some(false),
            imminent_risk: Some(false),
            means_counselled: Some(true),
            safety_plan: Some("Call her brother; come to the clinic; walking helps.".into()),
            action: Some("manage_in_primary_care".into()),
            ..AssessmentInput::default()
        }
    }

    fn fields(input: &AssessmentInput) -> Vec<&'static str> {
        match input.parse() {
            Err(InputError::Fields(p)) => p.iter().map(|p| p.field).collect(),
            other => panic!("expected field problems, got {other:?}"),
        }
    }

    #[test]
    fn a_complete_assessment_is_a_record() {
        let SafetyRecord::Assessed(a) = full().parse().unwrap() else { panic!("assessed") };
        assert!(a.any_risk());
        assert_eq!(a.action, SafetyAction::ManageInPrimaryCare);
    }

    #[test]
    fn every_missing_or_contradictory_field_is_named() {
        let empty = AssessmentInput { flag: "self_harm".into(), ..AssessmentInput::default() };
        assert_eq!(
            fields(&empty),
            ["thoughts", "plan", "act_past_year", "imminent_risk", "means_counselled", "action"]
        );
        let plan_alone = AssessmentInput { thoughts: Some(false), plan: Some(true), ..full() };
        assert_eq!(fields(&plan_alone), ["plan"]);
        let imminent_at_home = AssessmentInput { imminent_risk: Some(true), ..full() };
        assert_eq!(fields(&imminent_at_home), ["action"], "imminent risk needs urgent care");
        let imminent_without_risk = AssessmentInput {
            thoughts: Some(false),
            imminent_risk: Some(true),
            action: Some("stay_and_arrange_urgent_care".into()),
            ..full()
        };
        assert_eq!(fields(&imminent_without_risk), ["imminent_risk"]);
        let no_means = AssessmentInput { means_counselled: Some(false), ..full() };
        assert_eq!(fields(&no_means), ["means_counselled"], "thoughts alone call for means counselling");
        let no_means_no_risk =
            AssessmentInput { thoughts: Some(false), means_counselled: Some(false), safety_plan: None, ..full() };
        assert!(no_means_no_risk.parse().is_ok());
        let no_plan = AssessmentInput { safety_plan: Some("  ".into()), ..full() };
        assert_eq!(fields(&no_plan), ["safety_plan"]);
        let nothing = AssessmentInput { thoughts: Some(false), safety_plan: None, ..full() };
        assert!(nothing.parse().is_ok(), "no thoughts, plan or act: no safety plan is needed");
    }

    #[test]
    fn only_the_instruments_with_a_self_harm_question_ask_it() {
        use crate::instrument::{ScoreContext, catalog};
        let screening = |id: &str, answers: Vec<Option<i64>>| {
            let outcome = catalog().get(id).unwrap().score(&answers, &ScoreContext::default()).unwrap().into_outcome();
            crate::model::Screening {
                id: uuid::Uuid::nil(),
                encounter_id: uuid::Uuid::nil(),
                person_id: uuid::Uuid::nil(),
                organisation_id: uuid::Uuid::nil(),
                user_id: None,
                encounter_at: 0,
                instrument: id.into(),
                instrument_version: "1".into(),
                lang: crate::org::Lang::En,
                answers,
                outcome,
            }
        };
        let phq2 = screening("phq2", vec![Some(1), Some(1)]);
        let gad7 = screening("gad7", vec![Some(0); 7]);
        let phq9 = screening("phq9", vec![Some(0); 9]);
        assert!(!asked_about_self_harm(&[phq2.clone(), gad7.clone()]));
        assert!(asked_about_self_harm(&[phq2, phq9]), "PHQ-9 item 9, even answered 'not at all'");
        let srq20 = screening("srq20", vec![Some(0); 20]);
        assert!(asked_about_self_harm(&[gad7, srq20]));
    }

    #[test]
    fn an_unknown_flag_is_refused_as_such() {
        let input = AssessmentInput { flag: "psychosis".into(), ..full() };
        assert_eq!(input.parse(), Err(InputError::UnknownFlag("psychosis".into())));
    }

    #[test]
    fn no_assessment_needs_a_reason_and_enough_tries() {
        let not = |reason: &str, attempts, note: Option<&str>| AssessmentInput {
            flag: "self_harm".into(),
            not_possible: Some(reason.into()),
            attempts,
            note: note.map(str::to_owned),
            ..AssessmentInput::default()
        };
        assert_eq!(fields(&not("unreachable", Some(2), Some("no answer"))), ["attempts"]);
        assert!(not("unreachable", Some(3), Some("three calls, no answer")).parse().is_ok());
        assert_eq!(fields(&not("refused", None, None)), ["note"]);
        assert!(not("died", None, None).parse().is_ok());
        assert_eq!(fields(&not("gone", None, Some("x"))), ["not_possible"]);
    }
}
