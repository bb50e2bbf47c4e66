use hamroh_domain::instrument::{Instrument, ScoreContext};
use rust_xlsxwriter::Workbook;

use super::*;

type Rows<'a> = &'a [&'a [&'a str]];

fn workbook(survey: Rows, choices: Rows, settings: Rows) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, rows) in [("survey", survey), ("choices", choices), ("settings", settings)] {
        if rows.is_empty() {
            continue;
        }
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, text) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *text).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

const CHOICES: Rows = &[
    &["list_name", "name", "label::English (en)", "label::Russian (ru)", "label::Tajik (tg)"],
    &["freq", "0", "Never", "Никогда", "Ҳеҷ гоҳ"],
    &["freq", "1", "Sometimes", "Иногда", "Баъзан"],
    &["freq", "2", "Often", "Часто", "Аксар вақт"],
    &["yn", "yes", "Yes", "Да", "Ҳа"],
    &["yn", "no", "No", "Нет", "Не"],
];

const SETTINGS: Rows = &[
    &["form_title", "form_id", "version", "default_language"],
    &["Sleep check", "sleep_check", "2025-03", "English (en)"],
];

#[test]
fn a_summed_form_becomes_an_instrument_the_engine_scores() {
    let survey: Rows = &[
        &["type", "name", "label::English (en)", "label::Russian (ru)", "label::Tajik (tg)", "relevant", "calculation"],
        &["note", "intro", "Over the last two weeks…", "За последние две недели…", "Дар ду ҳафтаи охир…", "", ""],
        &["begin group", "g", "", "", "", "", ""],
        &["select_one freq", "s1", "Trouble falling asleep", "Трудно заснуть", "Душвор хоб рафтан", "", ""],
        &["select_one freq", "s2", "Waking at night", "Просыпаюсь ночью", "Шаб бедор мешавам", "${s1} > 0", ""],
        &["end group", "", "", "", "", "", ""],
        &["text", "comment", "Anything else?", "Что-то ещё?", "Чизи дигар?", "", ""],
        &["select_one yn", "worried", "Worried?", "Беспокоит?", "Ташвиш?", "", ""],
        &["calculate", "total", "", "", "", "", "${s1} + ${s2}"],
    ];
    let form = convert(&workbook(survey, CHOICES, SETTINGS)).unwrap();
    assert_eq!(form.id, "sleep_check");
    let instrument = Instrument::parse(&form.toml).unwrap();
    assert_eq!(instrument.items.len(), 2);
    assert_eq!((instrument.scoring.min, instrument.scoring.max), (0, 4));
    assert_eq!(instrument.items[1].text.ru, "Просыпаюсь ночью");
    assert_eq!(instrument.instructions.tg, "Дар ду ҳафтаи охир…");
    assert!(instrument.positive.is_none() && instrument.bands.is_empty() && instrument.flags.is_empty());
    let ctx = ScoreContext { sex: None, positive_at_least: None, lang: None };
    assert_eq!(instrument.score(&[Some(2), Some(1)], &ctx).unwrap().total, Some(3));
    let notes = form.notes.join("\n");
    assert!(notes.contains("`comment` (text) is left out"), "{notes}");
    assert!(notes.contains("choice `yes` of list `yn`"), "{notes}");
    assert!(notes.contains("item `s2`: its skip logic"), "{notes}");
    assert!(notes.contains("no cut-off"), "{notes}");
}

#[test]
fn a_form_without_a_total_is_refused_not_guessed() {
    let survey: Rows = &[
        &["type", "name", "label::English (en)"],
        &["select_one freq", "s1", "Trouble falling asleep"],
        &["calculate", "avg", ""],
    ];
    match convert(&workbook(survey, CHOICES, SETTINGS)) {
        Err(XlsFormError::CannotScore(why)) => assert!(why.contains("no total"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_translations_are_reported_and_marked_in_the_file() {
    let survey: Rows = &[
        &["type", "name", "label::English (en)", "calculation"],
        &["select_one freq", "s1", "Trouble falling asleep", ""],
        &["calculate", "total", "", "${s1}"],
    ];
    let choices: Rows =
        &[&["list_name", "name", "label::English (en)"], &["freq", "0", "Never"], &["freq", "1", "Often"]];
    let form = convert(&workbook(survey, choices, SETTINGS)).unwrap();
    let instrument = Instrument::parse(&form.toml).unwrap();
    assert_eq!(instrument.items[0].text.tg, "Trouble falling asleep");
    assert_eq!(instrument.languages["tg"].origin, "hamroh");
    assert_eq!(instrument.languages["en"].origin, "original");
    assert!(form.notes.iter().any(|n| n.contains("no tg version")), "{:?}", form.notes);
}

#[test]
fn a_workbook_that_is_not_an_xlsform_says_what_is_missing() {
    let bytes = workbook(&[&["a", "b"]], &[], &[]);
    assert!(matches!(convert(&bytes), Err(XlsFormError::MissingSheet("choices"))));
    assert!(matches!(convert(b"type,name\n"), Err(XlsFormError::Read(_))));
}

#[test]
fn totals_wrapped_to_count_blanks_as_zero_are_still_totals() {
    for calculation in [
        "int(${s1} + ${s2})",
        "coalesce(${s1}, 0) + coalesce(${s2},'0')",
        "number(${s1}) + int(${s2})",
        "int((coalesce(${s1}, 0) + ${s2}))",
    ] {
        let survey: Rows = &[
            &["type", "name", "label::English (en)", "calculation"],
            &["select_one freq", "s1", "Trouble falling asleep", ""],
            &["select_one freq", "s2", "Waking at night", ""],
            &["calculate", "total", "", calculation],
        ];
        let form = convert(&workbook(survey, CHOICES, SETTINGS)).unwrap_or_else(|e| panic!("{calculation}: {e:?}"));
        let instrument = Instrument::parse(&form.toml).unwrap();
        assert_eq!(instrument.scoring.max, 4, "{calculation}");
    }
    for not_a_sum in ["${s1} * ${s2}", "coalesce(${s1}, 1) + ${s2}", "int(${s1}) + (${s2}", "round(${s1} + ${s2}, 0)"] {
        assert_eq!(sum_of(not_a_sum), None, "{not_a_sum}");
    }
}

#[test]
fn other_choices_and_choice_filters_on_scored_items_are_noted() {
    let survey: Rows = &[
        &["type", "name", "label::English (en)", "choice_filter", "calculation"],
        &["select_one freq or_other", "s1", "Trouble falling asleep", "", ""],
        &["select_one freq", "s2", "Waking at night", "name != '2'", ""],
        &["calculate", "total", "", "", "${s1} + ${s2}"],
    ];
    let form = convert(&workbook(survey, CHOICES, SETTINGS)).unwrap();
    let notes = form.notes.join("\n");
    assert!(notes.contains("item `s1`: its \"or other\" choice"), "{notes}");
    assert!(notes.contains("item `s2`: its choice filter (name != '2')"), "{notes}");
}

#[test]
fn a_legacy_xls_workbook_is_read_like_an_xlsx_one() {
    // Written by xlwt (PyPI), as older XLSForm tools save them.
    let form = convert(include_bytes!("fixtures/sleep_check.xls")).unwrap();
    assert_eq!(form.id, "sleep_xls");
    let instrument = Instrument::parse(&form.toml).unwrap();
    assert_eq!(instrument.items.len(), 2);
    assert_eq!(instrument.items[1].text.tg, "Шаб бедор мешавам");
    assert_eq!((instrument.scoring.min, instrument.scoring.max), (0, 4));
    // A damaged one is still refused as damaged, not read.
    let mut damaged = include_bytes!("fixtures/sleep_check.xls")[..1024].to_vec();
    damaged.extend_from_slice(&[0; 64]);
    assert!(convert(&damaged).is_err());
}
