//! The steps of the clinician's workflow that pages and API share: scoring an encounter and
//! turning a decision into the records to store.

use hamroh_domain::access::Principal;
use hamroh_domain::instrument::{AnswerError, Cutoffs, Instrument, ScoreContext};
use hamroh_domain::model::{Decision, FollowUp, Person, Screening};
use hamroh_domain::org::Lang;
use hamroh_domain::pathway::{Step, suggest};
use hamroh_domain::referral::FollowUpStatus;
use uuid::Uuid;

/// Today in Dushanbe (UTC+5).
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).date()
}

/// Scores every instrument of one encounter with the engine. All or nothing: any invalid answers
/// return every problem, by instrument.
pub fn score_encounter(
    cutoffs: &Cutoffs,
    principal: &Principal,
    person: &Person,
    lang: Lang,
    inputs: &[(&Instrument, Vec<Option<i64>>)],
) -> Result<Vec<Screening>, Vec<(String, AnswerError)>> {
    let encounter_id = Uuid::now_v7();
    let now = hamroh_store::now_millis();
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
                encounter_at: now,
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

/// The follow-ups a followed pathway sets, counted from today: every follow-up of each series,
/// without two of the same kind on the same day.
pub fn follow_ups_for(steps: &[Step], person_id: Uuid, principal: &Principal, now: i64) -> Vec<FollowUp> {
    let mut out: Vec<FollowUp> = Vec::new();
    for (f, days) in
        steps.iter().filter_map(|s| s.follow_up).flat_map(|f| f.schedule().into_iter().map(move |d| (f, d)))
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
        });
    }
    out
}

/// Why a decision cannot be recorded: a Fluent message id.
pub const NEEDS_REASON: &str = "decision-needs-reason";

/// The decision record (and follow-ups) for `follow` or `other` (with an action and a reason).
pub fn decision(
    principal: &Principal,
    screenings: &[Screening],
    choice: &str,
    action: &str,
    reason: &str,
) -> Result<(Decision, Vec<FollowUp>), &'static str> {
    let first = screenings.first().ok_or(NEEDS_REASON)?;
    let follow = choice == "follow";
    let action_ok = hamroh_domain::pathway::Action::parse(action).is_some();
    if !follow && (choice != "other" || reason.trim().is_empty() || !action_ok) {
        return Err(NEEDS_REASON);
    }
    let pathway = suggest(screenings, Lang::En);
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
        reason: (!follow).then(|| reason.trim().to_owned()),
        at: now,
    };
    let follow_ups = if follow { follow_ups_for(&pathway.steps, first.person_id, principal, now) } else { Vec::new() };
    Ok((decision, follow_ups))
}
