use hamroh_domain::instrument::catalog;

use super::*;
use crate::sheet;

const MAPPING: &str = r#"
source = "kobo:test"
submission_id = "_uuid"
encounter_at = "_submission_time"
lang = "ru"

[person]
given_name = "who/given"
sex = "who/sex"
birth_year = "who/born"
district = "who/district"
consent_care = "consent/care"

[person.episode]
destination_country = "mig/country"
year_from = "mig/from"
work_sector = "mig/sector"

[[screening]]
instrument = "phq9"
prefix = "phq9/q"

[recode."who/sex"]
1 = "male"
2 = "female"
"#;

fn header() -> String {
    let items: Vec<String> = (1..=9).map(|n| format!("phq9/q{n}")).collect();
    format!(
        "_uuid;_submission_time;who/given;who/sex;who/born;who/district;consent/care;mig/country;mig/from;mig/sector;{}",
        items.join(";")
    )
}

fn ctx() -> Context {
    let now = jiff::Timestamp::from_second(1_790_000_000).unwrap();
    Context {
        organisation_id: Uuid::now_v7(),
        user_id: None,
        now: now.as_millisecond(),
        today: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
    }
}

fn plan_of(rows: &[&str]) -> Plan {
    let text = format!("{}\n{}\n", header(), rows.join("\n"));
    let sheet = sheet::read(text.as_bytes()).unwrap();
    plan(&sheet, &Mapping::parse(MAPPING).unwrap(), catalog(), &ctx())
}

fn new_person(submission: &Submission) -> Person {
    match &submission.subject {
        Subject::New(record) => record.person.clone(),
        Subject::Code(code) => panic!("expected a registration, got {code}"),
    }
}

#[test]
fn a_row_registers_a_person_and_scores_the_answers_as_the_engine_does() {
    let plan = plan_of(&["a1;2026-06-01T08:30:00;Aziz;1;1990;TJ-KT.kulob;yes;RU;2019;construction;2;2;2;2;2;2;2;1;1"]);
    assert_eq!(plan.problems, []);
    let s = &plan.submissions[0];
    assert_eq!((s.row, s.id.as_str(), s.lang), (2, "a1", Lang::Ru));
    assert_eq!(s.encounter_at, Some(jiff::Timestamp::from_second(1_780_302_600).unwrap().as_millisecond()));
    let person = new_person(s);
    assert_eq!(person.sex, hamroh_domain::person::Sex::Male);
    let Subject::New(record) = &s.subject else { unreachable!() };
    assert_eq!(record.episodes[0].destination_country, "RU");
    let screenings = score(s, &person, catalog(), &|_, _| None, &ctx()).unwrap();
    assert_eq!(screenings[0].outcome.total, Some(16));
    assert_eq!(screenings[0].outcome.flags, ["self_harm"]);
    assert_eq!(screenings[0].person_id, person.id);
}

#[test]
fn every_problem_is_reported_with_its_row_and_column() {
    let plan = plan_of(&[
        "a1;2026-06-01;Aziz;3;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;0;0;0;0;0;0;0",
        "a2;2026-06-01;Aziz;1;1990;nowhere;no;RU;2019;construction;0;0;0;0;0;0;0;0;0",
        "a3;someday;Aziz;1;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;0;0;0;0;0;0;0",
        "a4;2026-06-01;Aziz;1;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;often;0;0;0;0;0;0",
        "a1;2026-06-01;Aziz;1;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;0;0;0;0;0;0;0",
        "a6;2026-06-01;Aziz;1;1990",
    ]);
    let found: Vec<(Option<usize>, Option<&str>)> =
        plan.problems.iter().map(|p| (p.row, p.column.as_deref())).collect();
    assert_eq!(
        found,
        [
            (Some(2), Some("who/sex")),
            (Some(3), Some("who/district")),
            (Some(3), Some("consent/care")),
            (Some(4), Some("_submission_time")),
            (Some(5), Some("phq9/q3")),
            (Some(6), Some("_uuid")),
            (Some(7), None),
        ]
    );
    assert!(plan.problems[6].message.contains("5 cells where the header has 19"), "{}", plan.problems[6]);
    assert!(plan.submissions.is_empty());
}

#[test]
fn out_of_range_answers_are_the_engines_problem_reported_at_their_column() {
    let plan = plan_of(&["a1;2026-06-01;Aziz;2;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;0;0;7;0;0;0;0"]);
    let s = &plan.submissions[0];
    let problems = score(s, &new_person(s), catalog(), &|_, _| None, &ctx()).unwrap_err();
    assert_eq!(problems[0].row, Some(2));
    assert_eq!(problems[0].column.as_deref(), Some("phq9/q5"));
    assert!(problems[0].message.contains("7 is not an answer"), "{}", problems[0]);
}

#[test]
fn a_section_left_empty_is_no_screening() {
    let plan = plan_of(&["a1;2026-06-01;Aziz;2;1990;TJ-KT.kulob;yes;RU;2019;construction;;;;;;;;;"]);
    assert_eq!(plan.problems, []);
    assert!(plan.submissions[0].answers.is_empty());
}

#[test]
fn the_digest_changes_with_any_mapped_cell() {
    let a = plan_of(&["a1;2026-06-01;Aziz;2;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;0;0;0;0;0;0;0"]);
    let b = plan_of(&["a1;2026-06-01;Aziz;2;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;0;0;0;0;0;0;1"]);
    let again = plan_of(&["a1;2026-06-01;Aziz;2;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;0;0;0;0;0;0;0"]);
    assert_ne!(a.submissions[0].digest, b.submissions[0].digest);
    assert_eq!(a.submissions[0].digest, again.submissions[0].digest);
}

#[test]
fn a_mapping_that_does_not_fit_the_file_names_every_missing_column() {
    let sheet = sheet::read(b"_uuid,grp/phq9_1\nx,1\n").unwrap();
    let mapping = Mapping::parse(
        "source = \"odk:f\"\nsubmission_id = \"KEY\"\n[person]\ncode = \"code\"\n\
         [[screening]]\ninstrument = \"phq9\"\nitems = { 1 = \"phq9_1\" }\n[[screening]]\ninstrument = \"nope\"\n",
    )
    .unwrap();
    let plan = plan(&sheet, &mapping, catalog(), &ctx());
    let text: Vec<String> = plan.problems.iter().map(ToString::to_string).collect();
    assert!(text[0].starts_with("column `KEY`"), "{text:?}");
    assert!(text.iter().any(|t| t.contains("`phq9_1`") && t.contains("the file has grp/phq9_1")), "{text:?}");
    assert!(text.iter().any(|t| t.contains("no column for item `2`")), "{text:?}");
    assert!(text.iter().any(|t| t.contains("instrument `nope`")), "{text:?}");
}

#[test]
fn rows_about_registered_people_carry_their_code() {
    let sheet = sheet::read(b"KEY,code,g-phq2_1,g-phq2_2\nuuid:1,HM-AAAA-BBBB,1,2\n").unwrap();
    let mapping = odk_phq2_by_code();
    let plan = plan(&sheet, &mapping, catalog(), &ctx());
    assert_eq!(plan.problems, []);
    assert_eq!(plan.submissions[0].subject, Subject::Code("HM-AAAA-BBBB".into()));
    assert_eq!(plan.submissions[0].answers[0].answers, [Some(1), Some(2)]);
}

#[test]
fn a_formula_in_a_mapped_cell_is_refused() {
    let sheet = sheet::read(b"KEY,code,phq2_1,phq2_2,notes\nk,HM-AAAA-BBBB,=1+1,2,=ok\n").unwrap();
    let mapping = Mapping::parse(
        "source = \"odk:f\"\nsubmission_id = \"KEY\"\n[person]\ncode = \"code\"\n\
         [[screening]]\ninstrument = \"phq2\"\nprefix = \"phq2_\"\n",
    )
    .unwrap();
    let plan = plan(&sheet, &mapping, catalog(), &ctx());
    assert_eq!(plan.problems.len(), 1, "{:?}", plan.problems);
    assert_eq!(plan.problems[0].column.as_deref(), Some("phq2_1"));
}

#[test]
fn a_kobo_export_headed_by_labels_is_told_how_to_export_again() {
    let sheet = sheet::read(
        "start;Little interest or pleasure in doing things?;Feeling down, depressed, or hopeless?;_uuid\n\
         2026-01-02;1;2;abc\n"
            .as_bytes(),
    )
    .unwrap();
    let plan = plan(&sheet, &Mapping::parse(MAPPING).unwrap(), catalog(), &ctx());
    assert!(plan.problems[0].message.contains("XML values and headers"), "{:?}", plan.problems[0]);
    // A file headed by names is not told so, whatever else is missing.
    let names = sheet::read(b"_uuid,grp/phq9_1\nx,1\n").unwrap();
    let plan = super::plan(&names, &Mapping::parse(MAPPING).unwrap(), catalog(), &ctx());
    assert!(!plan.problems.iter().any(|p| p.message.contains("XML values")), "{:?}", plan.problems);
}

#[test]
fn codes_match_whatever_their_case_and_one_respondent_twice_is_noted() {
    let sheet = sheet::read(b"KEY,code,g-phq2_1,g-phq2_2\nuuid:1,hm-aaaa-bbbb,1,2\n").unwrap();
    let mapping = odk_phq2_by_code();
    assert_eq!(plan(&sheet, &mapping, catalog(), &ctx()).submissions[0].subject, Subject::Code("HM-AAAA-BBBB".into()));

    let row = |id: &str, name: &str| {
        format!("{id};2026-06-01T08:30:00;{name};1;1990;TJ-KT.kulob;yes;RU;2019;construction;0;0;0;0;0;0;0;0;0")
    };
    let plan = plan_of(&[&row("a1", "Firuz"), &row("a2", "Aziz"), &row("a3", "Фирӯз")]);
    assert_eq!(plan.problems, []);
    assert_eq!(plan.submissions.len(), 3, "a note does not stop the import");
    assert_eq!(plan.notes.len(), 1, "{:?}", plan.notes);
    assert_eq!(plan.notes[0].row, Some(4));
    assert!(plan.notes[0].message.contains("row 2"), "{}", plan.notes[0].message);
}

/// An ODK Central mapping: a PHQ-2 about a registered person, by code.
fn odk_phq2_by_code() -> Mapping {
    Mapping::parse(
        "source = \"odk:f\"\nsubmission_id = \"KEY\"\n[person]\ncode = \"code\"\n\
         [[screening]]\ninstrument = \"phq2\"\nprefix = \"g-phq2_\"\n",
    )
    .unwrap()
}
