//! `hamroh import` as a data manager runs it: submissions exported from KoBoToolbox or ODK
//! Central, and forms authored in XLSForm.

mod common;

use std::path::Path;
use std::process::Output;

use common::{hamroh, text};
use hamroh_store::{Counts, DbUrl, Store};

fn with_store<T>(db: &str, f: impl AsyncFnOnce(&Store) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = Store::open(&db.parse::<DbUrl>().unwrap()).await.unwrap();
        let out = f(&store).await;
        store.close().await;
        out
    })
}

fn counts(db: &str) -> Counts {
    with_store(db, async |s| s.counts().await.unwrap())
}

fn demo(dir: &Path) -> String {
    let db = format!("sqlite://{}", dir.join("hamroh.db").display());
    let out = hamroh(&["demo", "--db", &db, "--people", "20", "--seed", "3", "--as-of", "2026-10-01"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    db
}

const KOBO_MAPPING: &str = r#"
source = "kobo:aT3st"
submission_id = "_uuid"
encounter_at = "_submission_time"
lang = "tg"

[person]
given_name = "respondent/given_name"
sex = "respondent/sex"
birth_year = "respondent/birth_year"
district = "respondent/district"
consent_care = "consent/care"

[[screening]]
instrument = "gad7"
prefix = "gad7/gad7_"

[recode."respondent/sex"]
m = "male"
f = "female"
"#;

fn kobo_csv(rows: &[[&str; 6]], answers: &[&str]) -> String {
    let mut out = "start;_uuid;_submission_time;respondent/given_name;respondent/sex;respondent/birth_year;\
                   respondent/district;consent/care"
        .to_owned();
    for n in 1..=7 {
        out.push_str(&format!(";gad7/gad7_{n}"));
    }
    out.push('\n');
    for (row, a) in rows.iter().zip(answers) {
        out.push_str(&format!("2026-09-01;{}\n", row.join(";") + ";" + a));
    }
    out
}

fn import(db: &str, file: &Path, mapping: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import", "submissions", "--db", db, "--user", "clinician", "--mapping"];
    args.push(mapping.to_str().unwrap());
    args.push(file.to_str().unwrap());
    args.extend(extra);
    hamroh(&args)
}

#[test]
fn kobo_submissions_import_all_or_nothing_once_and_a_dry_run_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(&mapping, KOBO_MAPPING).unwrap();
    let rows = [
        ["k-1", "2026-09-01T08:00:00", "Aziz", "m", "1988", "TJ-KT.kulob"],
        ["k-2", "2026-09-01T09:00:00", "Malika", "f", "1995", "TJ-KT.kulob"],
        ["k-3", "2026-09-02T10:00:00", "Rustam", "m", "1979", "TJ-KT.kulob"],
    ];
    let csv = dir.path().join("kobo.csv");
    let before = counts(&db);

    // One bad cell: the import is refused with its row and column, and nothing is stored.
    std::fs::write(
        &csv,
        kobo_csv(&[rows[0], rows[1], rows[2]], &["yes;3;3;3;3;3;3;3", "yes;0;1;0;1;0;1;9", "yes;0;0;0;0;0;0;0"]),
    )
    .unwrap();
    let refused = import(&db, &csv, &mapping, &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stdout).contains("row 3, column `gad7/gad7_7`"), "{}", text(&refused.stdout));
    assert!(text(&refused.stderr).contains("nothing imported"), "{}", text(&refused.stderr));
    assert_eq!(counts(&db), before);

    std::fs::write(&csv, kobo_csv(&rows, &["yes;3;3;3;3;3;3;3", "yes;0;1;0;1;0;1;1", "yes;0;0;0;0;0;0;0"])).unwrap();
    let dry = import(&db, &csv, &mapping, &["--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let report = text(&dry.stdout);
    assert!(report.contains("row 2 (k-1): new person HM-") && report.contains("gad7 total 21 positive"), "{report}");
    assert!(!report.contains("Aziz"), "the report names nobody: {report}");
    assert_eq!(counts(&db), before, "a dry run stores nothing");

    let done = import(&db, &csv, &mapping, &[]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let after = counts(&db);
    assert_eq!((after.persons - before.persons, after.screenings - before.screenings), (3, 3));

    let again = import(&db, &csv, &mapping, &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("3 imported before"), "{}", text(&again.stderr));
    let last = counts(&db);
    assert_eq!((last.persons, last.screenings), (after.persons, after.screenings), "nothing is created twice");
    let verify = hamroh(&["audit", "verify", "--db", &db]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    let imported_at = with_store(&db, async |s| s.imported_submissions("kobo:aT3st").await.unwrap());
    assert_eq!(imported_at.len(), 3);
}

/// A large export is stored in parts of 1,000 submissions, one transaction each, so that a server
/// writing to the same database is never kept waiting for long; each part is audited.
#[test]
fn a_large_import_is_stored_in_audited_parts_and_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(&mapping, KOBO_MAPPING).unwrap();
    let n = 2_345;
    let rows: Vec<[String; 6]> = (0..n)
        .map(|i| {
            [
                format!("k-{i}"),
                format!("2026-09-{:02}T08:00:00", 1 + i % 28),
                "Aziz".into(),
                "m".into(),
                "1988".into(),
                "TJ-KT.kulob".into(),
            ]
        })
        .collect();
    let rows: Vec<[&str; 6]> = rows.iter().map(|r| [0, 1, 2, 3, 4, 5].map(|c| r[c].as_str())).collect();
    let csv = dir.path().join("kobo.csv");
    std::fs::write(&csv, kobo_csv(&rows, &vec!["yes;0;1;0;1;0;1;1"; n])).unwrap();
    let before = counts(&db);

    let done = import(&db, &csv, &mapping, &["--pause-ms", "0"]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let after = counts(&db);
    assert_eq!((after.persons - before.persons, after.screenings - before.screenings), (n as i64, n as i64));
    let parts = with_store(&db, async |s| s.audit_of_entity("submissions", "kobo:aT3st", 10).await.unwrap());
    let mut details: Vec<String> = parts.iter().map(|e| e.detail.clone().unwrap_or_default()).collect();
    details.sort();
    assert_eq!(details.len(), 3, "{details:?}");
    for (detail, part) in
        details.iter().zip(["part=1/3 submissions=1000", "part=2/3 submissions=1000", "part=3/3 submissions=345"])
    {
        assert!(detail.ends_with(part), "{detail}");
    }
    let imported = with_store(&db, async |s| s.imported_submissions("kobo:aT3st").await.unwrap());
    assert_eq!(imported.len(), n);

    let again = import(&db, &csv, &mapping, &[]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains(&format!("{n} imported before")), "{}", text(&again.stderr));
    assert_eq!(counts(&db).persons, after.persons, "nothing is created twice");
    let verify = hamroh(&["audit", "verify", "--db", &db]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

/// The file is read as it streams, a few thousand rows at a time, and still all or nothing: a
/// problem in the last rows, or a submission id that repeats one thousands of rows earlier, stores
/// nothing; an import that stopped after some parts goes on where it stopped.
#[test]
fn a_problem_far_into_a_streamed_file_stores_nothing_and_a_stopped_import_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(&mapping, KOBO_MAPPING).unwrap();
    let n = 9_000;
    let ids: Vec<String> = (0..n).map(|i| format!("k-{i}")).collect();
    let rows = |ids: &[String]| -> String {
        let rows: Vec<[&str; 6]> =
            ids.iter().map(|id| [id.as_str(), "2026-09-01T08:00:00", "Aziz", "m", "1988", "TJ-KT.kulob"]).collect();
        kobo_csv(&rows, &vec!["yes;0;1;0;1;0;1;1"; rows.len()])
    };
    let before = counts(&db);

    let mut late_problem = rows(&ids);
    late_problem.push_str("2026-09-01;k-last;2026-09-01T08:00:00;Aziz;m;1988;TJ-KT.kulob;yes;0;1;0;1;0;1;9\n");
    let csv = dir.path().join("late.csv");
    std::fs::write(&csv, &late_problem).unwrap();
    let out = import(&db, &csv, &mapping, &["--pause-ms", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("row {}, column `gad7/gad7_7`", n + 2)), "{}", text(&out.stdout));
    assert_eq!(counts(&db), before, "a problem in the last row stores nothing");

    let mut repeated = ids.clone();
    repeated[8_500] = ids[3].clone();
    std::fs::write(&csv, rows(&repeated)).unwrap();
    let out = import(&db, &csv, &mapping, &["--pause-ms", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("row 8502, column `_uuid`: the same submission id as row 5"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(counts(&db), before);

    // The first 2,500 rows were stored before (a stopped import); the rest goes in now.
    std::fs::write(&csv, rows(&ids[..2_500])).unwrap();
    assert!(import(&db, &csv, &mapping, &["--pause-ms", "0"]).status.success());
    std::fs::write(&csv, rows(&ids)).unwrap();
    let done = import(&db, &csv, &mapping, &["--pause-ms", "0"]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        text(&done.stderr)
            .contains("9000 rows: 6500 to import (6500 new persons, 6500 screenings), 2500 imported before"),
        "{}",
        text(&done.stderr)
    );
    let after = counts(&db);
    assert_eq!((after.persons - before.persons, after.screenings - before.screenings), (n as i64, n as i64));
    let imported = with_store(&db, async |s| s.imported_submissions("kobo:aT3st").await.unwrap());
    assert_eq!(imported.len(), n);
}

#[test]
fn odk_xlsx_submissions_screen_people_already_registered_by_their_code() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let code = with_store(&db, async |s| {
        let (id, _) = s.any_person().await.unwrap().unwrap();
        s.person(id).await.unwrap().unwrap().code
    });
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in
        ["SubmissionDate", "meta-instanceID", "ident-code", "phq-phq2_1", "phq-phq2_2", "KEY"].iter().enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "2026-09-03T07:12:00.000Z").unwrap();
    sheet.write_string(1, 1, "uuid:0f1e").unwrap();
    sheet.write_string(1, 2, &code).unwrap();
    sheet.write_number(1, 3, 2).unwrap();
    sheet.write_number(1, 4, 3).unwrap();
    sheet.write_string(1, 5, "uuid:0f1e").unwrap();
    let xlsx = dir.path().join("odk.xlsx");
    book.save(&xlsx).unwrap();
    let mapping = dir.path().join("odk.toml");
    std::fs::write(
        &mapping,
        "source = \"odk:returnees\"\nsubmission_id = \"KEY\"\nencounter_at = \"SubmissionDate\"\nlang = \"ru\"\n\
         [person]\ncode = \"ident-code\"\n[[screening]]\ninstrument = \"phq2\"\nprefix = \"phq-phq2_\"\n",
    )
    .unwrap();
    let before = counts(&db);
    let out = import(&db, &xlsx, &mapping, &[]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let after = counts(&db);
    assert_eq!((after.persons, after.screenings), (before.persons, before.screenings + 1));

    // A code nobody has is a problem of its row, not a new person.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["SubmissionDate", "ident-code", "phq-phq2_1", "phq-phq2_2", "KEY"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["2026-09-03", "HM-0000-0000", "1", "1", "uuid:0f20"].iter().enumerate() {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    book.save(&xlsx).unwrap();
    let out = import(&db, &xlsx, &mapping, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("row 2, column `ident-code`: no person with code HM-0000-0000"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn malformed_files_get_one_clear_error_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(&mapping, KOBO_MAPPING).unwrap();
    let before = counts(&db);
    let good = kobo_csv(&[["k-1", "2026-09-01T08:00:00", "Aziz", "m", "1988", "TJ-KT.kulob"]], &["yes;1;1;1;1;1;1;1"]);

    let mut cp1251 = good.clone().into_bytes();
    cp1251.extend_from_slice(b"2026-09-01;k-2;2026-09-01;\xC0\xE7\xE8\xE7;m;1988;TJ-KT.kulob;yes;1;1;1;1;1;1;1\n");
    let mut truncated = {
        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet().write_string(0, 0, "_uuid").unwrap();
        book.save_to_buffer().unwrap()
    };
    truncated.truncate(truncated.len() / 2);
    let ragged = good.replace(";1;1;1;1;1;1;1\n", ";1;1\n");
    let formula = good.replace(";1;1;1;1;1;1;1\n", ";=1+2;1;1;1;1;1;1\n");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("cp1251.csv", cp1251, "line 3 is not UTF-8 text"),
        ("truncated.xlsx", truncated, "not a readable XLSX workbook"),
        ("ragged.csv", ragged.into_bytes(), "row 2: 10 cells where the header has 15"),
        ("formula.csv", formula.into_bytes(), "row 2, column `gad7/gad7_1`: a formula"),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = import(&db, &path, &mapping, &[]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let said = text(&out.stdout) + &text(&out.stderr);
        assert!(said.contains(expected), "{name}: {said}");
    }
    // 2 GiB, sparse: refused before a byte is read.
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge).unwrap().set_len(2 << 30).unwrap();
    let out = import(&db, &huge, &mapping, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("are refused: export a shorter period"), "{}", text(&out.stderr));
    assert_eq!(counts(&db), before);
}

#[test]
fn an_xlsform_becomes_an_instrument_file_with_what_cannot_be_scored_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let rows: [(&str, &[&[&str]]); 3] = [
        (
            "survey",
            &[
                &["type", "name", "label::English (en)", "label::Russian (ru)", "calculation"],
                &["select_one often", "a", "Headaches", "Головные боли", ""],
                &["select_one often", "b", "Poor sleep", "Плохой сон", ""],
                &["integer", "age", "Age", "Возраст", ""],
                &["calculate", "score", "", "", "${a} + ${b}"],
            ],
        ),
        (
            "choices",
            &[
                &["list_name", "name", "label::English (en)", "label::Russian (ru)"],
                &["often", "0", "No", "Нет"],
                &["often", "1", "Yes", "Да"],
            ],
        ),
        ("settings", &[&["form_title", "form_id"], &["Somatic check", "somatic_check"]]),
    ];
    for (name, table) in rows {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, row) in table.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    let form = dir.path().join("form.xlsx");
    book.save(&form).unwrap();
    let output = dir.path().join("somatic_check.toml");
    let out = hamroh(&["import", "xlsform", form.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let notes = text(&out.stderr);
    assert!(notes.contains("`age` (integer) is left out") && notes.contains("no tg version"), "{notes}");
    let file = std::fs::read_to_string(&output).unwrap();
    let instrument = hamroh_domain::instrument::Instrument::parse(&file).unwrap();
    assert_eq!((instrument.id.as_str(), instrument.scoring.max), ("somatic_check", 2));
    let again = hamroh(&["import", "xlsform", form.to_str().unwrap(), "--output", output.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "an existing file is not replaced without --force");
}

/// A red flag that arrives by import tells the organisation's duty contacts through the outbox, as
/// one raised in the clinic does, with the person's code and no name; it asks for contact today.
#[test]
fn an_imported_red_flag_alerts_the_organisation_and_asks_for_contact_today() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    with_store(&db, async |s| {
        let user = s.user_by_username("clinician").await.unwrap().expect("the demo clinician");
        s.set_contact(&hamroh_store::Actor::system("test"), user.id, Some("duty@clinic.example"), None).await.unwrap();
    });
    let before = with_store(&db, async |s| s.outbox_messages(false).await.unwrap().len());
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(&mapping, KOBO_MAPPING.replace("\"gad7\"", "\"phq9\"").replace("gad7/gad7_", "phq9/phq9_")).unwrap();
    let mut csv = "start;_uuid;_submission_time;respondent/given_name;respondent/sex;respondent/birth_year;\
                   respondent/district;consent/care"
        .to_owned();
    for n in 1..=9 {
        csv.push_str(&format!(";phq9/phq9_{n}"));
    }
    csv.push_str("\n2026-09-01;f-1;2026-09-01T08:00:00;Aziz;m;1988;TJ-KT.kulob;yes;1;1;1;1;1;1;1;1;2\n");
    let file = dir.path().join("flagged.csv");
    std::fs::write(&file, csv).unwrap();
    let done = import(&db, &file, &mapping, &[]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let messages = with_store(&db, async |s| s.outbox_messages(false).await.unwrap());
    let new: Vec<_> = messages.iter().skip(before).filter(|m| m.recipient == "duty@clinic.example").collect();
    assert_eq!(new.len(), 1, "one alert for the one flag: {messages:?}");
    assert!(new[0].body.contains("HM-") && !new[0].body.contains("Aziz"), "{}", new[0].body);
    let waiting = with_store(&db, async |s| {
        let person = s.imported_submissions("kobo:aT3st").await.unwrap();
        assert_eq!(person.len(), 1);
        let user = s.user_by_username("clinician").await.unwrap().unwrap();
        s.urgent_items(user.organisation_id, 500).await.unwrap().rows
    });
    assert!(waiting.iter().any(|u| u.contact_today), "an imported flag asks for contact today");
}
