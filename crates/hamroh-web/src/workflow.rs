//! The steps of the clinician's workflow that pages and API share: scoring an encounter and
//! turning a decision into the records to store.

use hamroh_domain::access::Principal;
use hamroh_domain::instrument::{AnswerError, Cutoffs, Instrument, ScoreContext};
use hamroh_domain::model::{Decision, FollowUp, Millis, Person, Screening};
use hamroh_domain::org::Lang;
use hamroh_domain::pathway::{Circumstances, Step, suggest};
use hamroh_domain::referral::FollowUpStatus;
use uuid::Uuid;

/// Today in Dushanbe (UTC+5).
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).date()
}

/// The engine's problems as one message, each item named by its id (a FHIR linkId, a form's
/// question) rather than its position, which differ for instruments whose items have names.
pub fn problems_text(problems: &[(String, AnswerError)]) -> String {
    let named = |instrument: &str, e: &AnswerError| {
        let text = e.to_string();
        let item = e.item().and_then(|n| hamroh_domain::instrument::catalog().get(instrument)?.items.get(n - 1));
        match (item, text.split_once(": ")) {
            (Some(item), Some((_, rest))) => format!("{instrument}: item {}: {rest}", item.id),
            _ => format!("{instrument}: {text}"),
        }
    };
    problems.iter().map(|(i, e)| named(i, e)).collect::<Vec<_>>().join("; ")
}

/// Scores every instrument of one encounter with the engine. All or nothing: any invalid answers
/// return every problem, by instrument.
pub fn score_encounter(
    cutoffs: &Cutoffs,
    principal: &Principal,
    person: &Person,
    (lang, at): (Lang, Millis),
    inputs: &[(&Instrument, Vec<Option<i64>>)],
) -> Result<Vec<Screening>, Vec<(String, AnswerError)>> {
    let encounter_id = Uuid::now_v7();
    let mut screenings = Vec::new();
    let mut problems = Vec::new();
    for (inst, answers) in inputs {
        let ctx = ScoreContext {
            sex: Some(person.sex),
            positive_at_least: cutoffs.for_respondent(&inst.id, Some(person.sex)),
            lang: Some(lang),
        };
        match inst.score(answers, &ctx) {
            Ok(score) => screenings.push(Screening {
                id: Uuid::now_v7(),
                encounter_id,
                person_id: person.id,
                organisation_id: principal.organisation_id,
                user_id: Some(principal.user_id),
                encounter_at: at,
                instrument: inst.id.clone(),
                instrument_version: inst.version.clone(),
                lang,
                answers: answers.clone(),
                outcome: score.into_outcome(),
            }),
            Err(e) => problems.push((inst.id.clone(), e)),
        }
    }
    if problems.is_empty() { Ok(screenings) } else { Err(problems) }
}

/// The follow-ups the steps set, counted from today: every follow-up of each series, without two
/// of the same kind on the same day. Each names the rule that set it and the encounter.
pub fn follow_ups_for(
    steps: &[Step],
    person_id: Uuid,
    encounter_id: Uuid,
    principal: &Principal,
    now: i64,
) -> Vec<FollowUp> {
    let mut out: Vec<FollowUp> = Vec::new();
    for (step, f, days) in steps
        .iter()
        .filter_map(|s| s.follow_up.map(|f| (s, f)))
        .flat_map(|(s, f)| f.schedule().into_iter().map(move |d| (s, f, d)))
    {
        let due = today() + jiff::Span::new().days(days);
        if out.iter().any(|x| x.kind == f.kind && x.due_date == due) {
            continue;
        }
        out.push(FollowUp {
            id: Uuid::now_v7(),
            person_id,
            organisation_id: principal.organisation_id,
            referral_id: None,
            kind: f.kind,
            due_date: due,
            status: FollowUpStatus::Open,
            note: None,
            created_at: now,
            created_by: Some(principal.user_id),
            done_at: None,
            source: step.rule.clone(),
            encounter_id: Some(encounter_id),
            outcome: None,
        });
    }
    out
}

/// Why a decision cannot be recorded: a Fluent message id.
pub const NEEDS_REASON: &str = "decision-needs-reason";

/// The decision record, and the follow-ups it sets, for `follow` or `other` (with an action and
/// a reason). The red flags' follow-ups (the self-harm calls) are the clinician's duty whatever
/// the choice: another choice replaces only the pathway's other follow-ups. An amendment
/// (`amends`, with its reason) sets no red-flag follow-ups again: they were set by the first
/// decision.
pub fn decision(
    principal: &Principal,
    (screenings, circumstances): (&[Screening], &Circumstances),
    choice: &str,
    action: &str,
    reason: &str,
    amends: Option<&Decision>,
) -> Result<(Decision, Vec<FollowUp>), &'static str> {
    let first = screenings.first().ok_or(NEEDS_REASON)?;
    let follow = choice == "follow";
    let action_ok = hamroh_domain::pathway::Action::parse(action).is_some();
    if !follow && (choice != "other" || reason.trim().is_empty() || !action_ok) {
        return Err(NEEDS_REASON);
    }
    if amends.is_some() && reason.trim().is_empty() {
        return Err(NEEDS_REASON);
    }
    let pathway = suggest(screenings, circumstances, Lang::En);
    let now = hamroh_store::now_millis();
    let decision = Decision {
        id: Uuid::now_v7(),
        encounter_id: first.encounter_id,
        person_id: first.person_id,
        organisation_id: principal.organisation_id,
        user_id: Some(principal.user_id),
        suggested: pathway.steps.iter().map(|s| s.rule.clone()).collect(),
        choice: choice.to_owned(),
        action: if follow {
            pathway.steps.iter().map(|s| s.action.as_str()).collect::<Vec<_>>().join(",")
        } else {
            action.to_owned()
        },
        reason: (!follow || amends.is_some()).then(|| reason.trim().to_owned()),
        at: now,
        amends: amends.map(|d| d.id),
    };
    let urgent = |s: &&Step| s.action == hamroh_domain::pathway::Action::UrgentAssessment;
    let steps: Vec<Step> =
        pathway.steps.iter().filter(|s| if urgent(s) { amends.is_none() } else { follow }).cloned().collect();
    let follow_ups = follow_ups_for(&steps, first.person_id, first.encounter_id, principal, now);
    Ok((decision, follow_ups))
}

/// Records a decision and the follow-ups it sets. An amendment cancels the open follow-ups the
/// earlier choice set, except the red flags' (each cancellation audited).
pub async fn record_decision(
    gate: &hamroh_store::Gate<'_>,
    decision: &Decision,
    follow_ups: &[FollowUp],
) -> Result<(), hamroh_store::StoreError> {
    gate.decide(decision, follow_ups).await?;
    if decision.amends.is_some() {
        let earlier = gate.follow_ups(decision.person_id).await?;
        let reason = "the decision was amended".to_owned();
        for f in earlier.iter().filter(|f| {
            f.encounter_id == Some(decision.encounter_id)
                && f.status == FollowUpStatus::Open
                && !set_by_red_flag(f)
                && !follow_ups.iter().any(|n| n.id == f.id)
        }) {
            gate.change_follow_up(f.id, &hamroh_store::FollowUpChange::Cancel { reason: reason.clone() }).await?;
        }
    }
    Ok(())
}

/// Whether a follow-up was set by a red flag's rule (and so outlives any choice on the pathway).
pub fn set_by_red_flag(follow_up: &FollowUp) -> bool {
    hamroh_domain::pathway::rules()
        .iter()
        .any(|r| r.id == follow_up.source && r.action == hamroh_domain::pathway::Action::UrgentAssessment)
}

/// What registering a new person for `principal` needs: a fresh id, the organisation and user,
/// the time it is recorded at, and today.
pub fn registration_context(principal: &Principal, now: Millis) -> hamroh_domain::registration::RegistrationContext {
    hamroh_domain::registration::RegistrationContext {
        person_id: Uuid::now_v7(),
        organisation_id: principal.organisation_id,
        user_id: Some(principal.user_id),
        now,
        today: today(),
    }
}
