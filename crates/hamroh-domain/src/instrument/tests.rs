//! Scoring checked against the manuals: a table at every band edge of every instrument, the skip
//! rules, the instrument-specific algorithms, and properties that must hold for any answers.

use proptest::prelude::*;

use super::*;
use crate::person::Sex;

fn instrument(id: &str) -> &'static Instrument {
    catalog().get(id).unwrap_or_else(|| panic!("instrument {id}"))
}

fn ctx(sex: Option<Sex>) -> ScoreContext {
    ScoreContext { sex, ..ScoreContext::default() }
}

/// Parses `answers` as the CLI does and scores them.
fn score(id: &str, answers: &str, sex: Option<Sex>) -> Result<Score<'static>, AnswerError> {
    instrument(id).score(&parse_answers(answers)?, &ctx(sex))
}

fn ok(id: &str, answers: &str, sex: Option<Sex>) -> Score<'static> {
    score(id, answers, sex).unwrap_or_else(|e| panic!("{id} {answers}: {e}"))
}

/// Answers whose total is `total`, filling items in order from the first (for sum instruments
/// without skip rules).
fn summing_to(id: &str, total: i64) -> String {
    let inst = instrument(id);
    let mut left = total - inst.items.iter().map(|i| i.value_range(inst).0).sum::<i64>();
    inst.items
        .iter()
        .map(|item| {
            let (min, max) = item.value_range(inst);
            let v = (min + left).min(max);
            left -= v - min;
            v.to_string()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn check_bands(id: &str, sex: Option<Sex>, table: &[(i64, &str, bool)]) {
    for &(total, band, positive) in table {
        let s = ok(id, &summing_to(id, total), sex);
        assert_eq!(s.total, Some(total), "{id} total");
        assert_eq!(s.band, Some(band), "{id} at {total}");
        assert_eq!(s.positive, Some(positive), "{id} at {total}");
    }
}

#[test]
fn the_catalogue_holds_exactly_the_contracted_instruments() {
    let ids: Vec<&str> = catalog().ids().collect();
    assert_eq!(
        ids,
        [
            "audit",
            "auditc",
            "gad7",
            "k10",
            "observations",
            "pcl5",
            "pcptsd5",
            "phq15",
            "phq2",
            "phq9",
            "self_harm_questions",
            "srq20",
            "symptom_review",
            "wgss",
            "whodas12"
        ]
    );
    for inst in catalog().iter() {
        for lang in ["tg", "ru", "en"] {
            assert!(inst.languages.contains_key(lang), "{} {lang}", inst.id);
        }
        assert!(!inst.scoring.source.is_empty() && !inst.citation.is_empty() && !inst.licence.is_empty());
        if let Some(p) = &inst.positive {
            assert!(!p.source.is_empty(), "{}: every cut-off cites its source", inst.id);
        }
    }
}

#[test]
fn phq9_bands_at_every_edge() {
    check_bands(
        "phq9",
        None,
        &[
            (0, "minimal", false),
            (4, "minimal", false),
            (5, "mild", false),
            (9, "mild", false),
            (10, "moderate", true),
            (14, "moderate", true),
            (15, "moderately_severe", true),
            (19, "moderately_severe", true),
            (20, "severe", true),
            (27, "severe", true),
        ],
    );
}

#[test]
fn phq9_item_9_raises_self_harm_whatever_the_total() {
    let s = ok("phq9", "0,0,0,0,0,0,0,0,1", None);
    assert_eq!((s.total, s.band, s.flags.clone()), (Some(1), Some("minimal"), vec!["self_harm"]));
    assert!(ok("phq9", "3,3,3,3,3,3,3,3,0", None).flags.is_empty());
}

#[test]
fn phq9_depressive_syndrome_algorithm() {
    let syndrome = |answers| match ok("phq9", answers, None).detail {
        Some(Detail::Phq9(d)) => (d.items_present, d.major_depressive_syndrome, d.other_depressive_syndrome),
        other => panic!("{other:?}"),
    };
    // Core item 1 and four more at "more than half the days": major depressive syndrome.
    assert_eq!(syndrome("2,0,2,2,2,2,0,0,0"), (5, true, false));
    // Item 9 counts from "several days".
    assert_eq!(syndrome("2,0,2,2,2,0,0,0,1"), (5, true, false));
    assert_eq!(syndrome("0,3,2,0,0,0,0,0,0"), (2, false, true));
    // No core symptom: neither syndrome, however many others.
    assert_eq!(syndrome("1,1,3,3,3,3,3,3,1"), (7, false, false));
}

#[test]
fn phq2_positive_from_3() {
    check_bands(
        "phq2",
        None,
        &[(0, "negative", false), (2, "negative", false), (3, "positive", true), (6, "positive", true)],
    );
}

#[test]
fn gad7_bands_at_every_edge() {
    check_bands(
        "gad7",
        None,
        &[
            (0, "minimal", false),
            (4, "minimal", false),
            (5, "mild", false),
            (9, "mild", false),
            (10, "moderate", true),
            (14, "moderate", true),
            (15, "severe", true),
            (21, "severe", true),
        ],
    );
}

#[test]
fn phq15_bands_and_the_item_for_women_only() {
    check_bands(
        "phq15",
        Some(Sex::Female),
        &[
            (0, "minimal", false),
            (4, "minimal", false),
            (5, "low", false),
            (9, "low", false),
            (10, "medium", true),
            (14, "medium", true),
            (15, "high", true),
            (30, "high", true),
        ],
    );
    let man = "2,2,2,-,2,2,2,2,2,2,2,2,2,2,2";
    assert_eq!(ok("phq15", man, Some(Sex::Male)).total, Some(28));
    let err = score("phq15", "0,0,0,1,0,0,0,0,0,0,0,0,0,0,0", Some(Sex::Male)).unwrap_err();
    assert!(matches!(err, AnswerError::MustSkip { item: 4, .. }), "{err}");
    assert!(matches!(score("phq15", man, Some(Sex::Female)), Err(AnswerError::Missing { item: 4 })));
    // Sex not recorded: item 4 may be answered or left out.
    assert_eq!(ok("phq15", man, None).total, Some(28));
    match ok("phq15", "2,2,2,0,2,0,0,0,0,0,0,0,0,0,0", Some(Sex::Female)).detail {
        Some(Detail::Phq15(d)) => assert_eq!(d.bothered_a_lot, 4),
        other => panic!("{other:?}"),
    }
}

#[test]
fn srq20_counts_yes_answers_and_flags_item_17() {
    check_bands(
        "srq20",
        None,
        &[(0, "negative", false), (7, "negative", false), (8, "positive", true), (20, "positive", true)],
    );
    let mut answers = vec!["0"; 20];
    answers[16] = "1";
    let s = ok("srq20", &answers.join(","), None);
    assert_eq!((s.total, s.positive, s.flags), (Some(1), Some(false), vec!["self_harm"]));
    assert!(matches!(score("srq20", &["2"; 20].join(","), None), Err(AnswerError::OutOfRange { item: 1, .. })));
}

#[test]
fn srq20_cut_off_follows_the_deployment_and_the_band_follows_it() {
    let answers = parse_answers(
        &["1", "1", "1", "1", "1", "1", "1", "1", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"].join(","),
    )
    .unwrap();
    let srq = instrument("srq20");
    let default = srq.score(&answers, &ctx(Some(Sex::Male))).unwrap();
    assert_eq!((default.band, default.cutoff.clone().unwrap().source), (Some("positive"), "instrument"));
    let local = ScoreContext { sex: Some(Sex::Male), positive_at_least: Some(10), lang: None };
    let s = srq.score(&answers, &local).unwrap();
    assert_eq!((s.positive, s.band), (Some(false), Some("negative")));
    assert_eq!(s.cutoff, Some(CutoffUsed { at_least: 10, source: "deployment" }));
}

#[test]
fn k10_bands_at_every_edge_and_its_skipped_questions() {
    check_bands(
        "k10",
        None,
        &[
            (10, "low", false),
            (15, "low", false),
            (16, "moderate", false),
            (21, "moderate", false),
            (22, "high", true),
            (29, "high", true),
            (30, "very_high", true),
            (50, "very_high", true),
        ],
    );
    assert_eq!(ok("k10", "3,1,-,3,1,-,3,3,3,3", None).total, Some(22));
    // A self-completed form answers every item: the answer counts as given, with a warning.
    let s = ok("k10", "3,1,2,3,1,1,3,3,3,3", None);
    assert_eq!((s.total, s.band), (Some(23), Some("high")));
    assert_eq!(s.warnings.iter().map(|w| (w.code, w.item)).collect::<Vec<_>>(), [("answered_though_not_asked", "3")]);
    assert!(s.warnings[0].message.contains("item 3 was answered (2)"), "{}", s.warnings[0].message);
    // Answering the lowest value where the form skips is consistent: no warning.
    assert!(ok("k10", "3,1,1,3,1,1,3,3,3,3", None).warnings.is_empty());
    let s = ok("k10", "1,1,5,1,1,5,1,1,1,1", None);
    assert_eq!((s.total, s.warnings.len()), (Some(18), 2));
    assert!(matches!(score("k10", "3,2,-,3,3,3,3,3,3,3", None), Err(AnswerError::Missing { item: 3 })));
    assert!(matches!(score("k10", "0,1,1,1,1,1,1,1,1,1", None), Err(AnswerError::OutOfRange { item: 1, .. })));
}

#[test]
fn pcptsd5_trauma_gate_and_both_cut_offs() {
    let s = ok("pcptsd5", "0,-,-,-,-,-", None);
    assert_eq!((s.total, s.band, s.positive), (Some(0), Some("negative"), Some(false)));
    assert!(matches!(score("pcptsd5", "0,1,0,0,0,0", None), Err(AnswerError::MustSkip { item: 2, .. })));
    assert!(matches!(score("pcptsd5", "1,-,0,0,0,0", None), Err(AnswerError::Missing { item: 2 })));
    let s = ok("pcptsd5", "1,1,1,0,0,0", None);
    assert_eq!((s.total, s.positive), (Some(2), Some(false)));
    let s = ok("pcptsd5", "1,1,1,1,0,0", None);
    assert_eq!((s.total, s.band, s.positive), (Some(3), Some("positive"), Some(true)));
    assert!(!s.thresholds[0].met);
    let s = ok("pcptsd5", "1,1,1,1,1,0", None);
    assert_eq!((s.thresholds[0].id, s.thresholds[0].met), ("optimally_efficient", true));
}

#[test]
fn pcl5_cut_off_and_dsm5_cluster_rule() {
    check_bands(
        "pcl5",
        None,
        &[(0, "negative", false), (32, "negative", false), (33, "positive", true), (80, "positive", true)],
    );
    let dsm5 = |answers: &str| match ok("pcl5", answers, None).detail {
        Some(Detail::Pcl5(d)) => d.dsm5_provisional_ptsd,
        other => panic!("{other:?}"),
    };
    // One B, one C, two D, two E items at "moderately": provisional PTSD though the total is 12.
    assert!(dsm5("2,0,0,0,0,2,0,2,2,0,0,0,0,0,2,2,0,0,0,0"));
    // Only one D item: not met, however high the rest.
    assert!(!dsm5("4,4,4,4,4,4,4,4,1,1,1,1,1,1,4,4,4,4,4,4"));
    // Ratings of 1 ("a little bit") never count as symptoms.
    assert!(!dsm5(&["1"; 20].join(",")));
}

#[test]
fn auditc_needs_sex_and_uses_its_cut_off() {
    assert!(matches!(score("auditc", "1,1,1", None), Err(AnswerError::SexRequired { .. })));
    check_bands(
        "auditc",
        Some(Sex::Male),
        &[(0, "negative", false), (3, "negative", false), (4, "positive", true), (12, "positive", true)],
    );
    check_bands("auditc", Some(Sex::Female), &[(2, "negative", false), (3, "positive", true)]);
    assert_eq!(ok("auditc", "0,-,-", Some(Sex::Male)).total, Some(0));
}

#[test]
fn audit_zones_at_every_edge_and_the_manuals_skip_logic() {
    let table: &[(&str, i64, &str, bool)] = &[
        ("0,-,-,-,-,-,-,-,0,0", 0, "low_risk", false),
        ("4,3,0,0,0,0,0,0,0,0", 7, "low_risk", false),
        ("4,4,0,0,0,0,0,0,0,0", 8, "hazardous", true),
        ("4,4,4,3,0,0,0,0,0,0", 15, "hazardous", true),
        ("4,4,4,4,0,0,0,0,0,0", 16, "harmful", true),
        ("4,4,4,3,0,0,0,0,4,0", 19, "harmful", true),
        ("4,4,4,4,0,0,0,0,4,4", 24, "possible_dependence", true),
        ("4,4,4,4,4,4,4,4,4,4", 40, "possible_dependence", true),
        ("0,-,-,-,-,-,-,-,4,4", 8, "hazardous", true),
        ("2,0,0,-,-,-,-,-,2,0", 4, "low_risk", false),
    ];
    for (answers, total, band, positive) in table {
        let s = ok("audit", answers, None);
        assert_eq!((s.total, s.band, s.positive), (Some(*total), Some(*band), Some(*positive)), "{answers}");
    }
    // Item 2 answered after "never" to item 1 (a paper form): scored as given, with a warning.
    let s = ok("audit", "0,1,0,0,0,0,0,0,0,0", None);
    assert_eq!((s.total, s.warnings.iter().map(|w| w.item).collect::<Vec<_>>()), (Some(1), vec!["2"]));
    // Items 4-8 answered though items 2 and 3 are both 0: each named, each counted.
    let s = ok("audit", "1,0,0,1,0,2,0,0,0,0", None);
    assert_eq!((s.total, s.warnings.iter().map(|w| w.item).collect::<Vec<_>>()), (Some(4), vec!["4", "6"]));
    assert!(matches!(score("audit", "1,1,0,0,0,0,0,0,1,0", None), Err(AnswerError::OutOfRange { item: 9, .. })));
    assert!(matches!(score("audit", "1,1,0,-,0,0,0,0,0,0", None), Err(AnswerError::Missing { item: 4 })));
}

#[test]
fn wgss_counts_domains_with_a_lot_of_difficulty() {
    let s = ok("wgss", "2,2,2,2,2,2", None);
    assert_eq!((s.total, s.band, s.positive), (Some(0), Some("no_disability"), Some(false)));
    let s = ok("wgss", "1,1,3,1,4,2", None);
    assert_eq!((s.total, s.band, s.positive), (Some(2), Some("disability"), Some(true)));
    match s.detail {
        Some(Detail::Wgss(d)) => {
            assert_eq!(d.level, "a_lot_or_unable");
            assert_eq!((d.domains[2].domain, d.domains[2].difficulty), ("mobility", "a_lot_of_difficulty"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(score("wgss", "0,1,1,1,1,1", None), Err(AnswerError::OutOfRange { item: 1, .. })));
}

#[test]
fn whodas12_is_a_simple_sum_without_band_or_cut_off() {
    for (answers, total) in [(["1"; 12].join(","), 12), (["5"; 12].join(","), 60), (summing_to("whodas12", 30), 30)] {
        let s = ok("whodas12", &answers, None);
        assert_eq!((s.total, s.band, s.positive, s.cutoff), (Some(total), None, None, None));
    }
}

#[test]
fn symptom_review_counts_domains_and_points_to_instruments() {
    let sr = instrument("symptom_review");
    let answer = |yes: &[&str]| -> String {
        sr.items.iter().map(|i| if yes.contains(&i.id.as_str()) { "1" } else { "0" }).collect::<Vec<_>>().join(",")
    };
    let s = ok("symptom_review", &answer(&[]), None);
    assert_eq!((s.total, s.band, s.positive, s.flags.len()), (Some(0), None, None, 0));
    let s = ok("symptom_review", &answer(&["headache", "sleep", "alcohol"]), None);
    assert_eq!(s.total, Some(2));
    match &s.detail {
        Some(Detail::Checklist(c)) => {
            assert_eq!(c.domains, ["somatic", "behavioural"]);
            assert_eq!(c.next, ["phq9", "phq15", "auditc"]);
        }
        other => panic!("{other:?}"),
    }
    // The self-harm question is a red flag, not a domain, and leads to an assessment.
    let s = ok("symptom_review", &answer(&["self_harm"]), None);
    assert_eq!((s.total, s.flags.clone()), (Some(0), vec!["self_harm"]));
    match &s.detail {
        Some(Detail::Checklist(c)) => assert_eq!(c.next, ["phq9"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_answers_name_the_item() {
    let phq9 = instrument("phq9");
    let c = ScoreContext::default();
    assert!(matches!(phq9.score(&[Some(0); 8], &c), Err(AnswerError::Count { expected: 10, required: 9, got: 8, .. })));
    let mut answers = vec![Some(0); 9];
    answers[3] = Some(4);
    assert_eq!(
        phq9.score(&answers, &c).unwrap_err().to_string(),
        "item 4: 4 is out of range; expected one of 0, 1, 2, 3"
    );
    answers[3] = Some(-1);
    assert!(matches!(phq9.score(&answers, &c), Err(AnswerError::OutOfRange { item: 4, .. })));
    answers[3] = None;
    assert_eq!(phq9.score(&answers, &c).unwrap_err(), AnswerError::Missing { item: 4 });
    assert!(matches!(parse_answers("0,x,1"), Err(AnswerError::NotANumber { item: 2, .. })));
}

#[test]
fn a_file_whose_bands_leave_a_gap_is_refused() {
    let text = include_str!("../../../../instruments/gad7.toml").replace("min = 5\nmax = 9", "min = 6\nmax = 9");
    let err = Catalog::parse(&[("gad7", &text)]).unwrap_err();
    assert!(err.contains("band mild must start at 5"), "{err}");
    let text = include_str!("../../../../instruments/phq9.toml").replace("item = \"9\"", "item = \"99\"");
    assert!(Catalog::parse(&[("phq9", &text)]).unwrap_err().contains("unknown item 99"));
}

/// Answers that satisfy the skip rules: `picks` choose each item's option; items left out by an
/// active rule become `-` (or, for a `may` rule, stay at their lowest value when `keep` says so).
fn valid_answers(inst: &Instrument, picks: &[usize], keep: &[bool], sex: Sex) -> Vec<Option<i64>> {
    let mut answers: Vec<Option<i64>> = inst
        .items
        .iter()
        .zip(picks)
        .map(|(item, pick)| {
            let values: Vec<i64> = item.values(inst).collect();
            Some(values[pick % values.len()])
        })
        .collect();
    for rule in &inst.skip {
        let applies = match rule.sex {
            Some(s) => s == sex,
            None => {
                let sum: i64 = rule
                    .when_sum_of
                    .iter()
                    .flatten()
                    .map(|id| {
                        let n = inst.item_index(id).unwrap();
                        answers[n].unwrap_or(inst.items[n].value_range(inst).0)
                    })
                    .sum();
                Some(sum) == rule.equals
            }
        };
        if applies {
            for id in &rule.items {
                let n = inst.item_index(id).unwrap();
                answers[n] = match rule.mode {
                    SkipMode::Interview if keep[n] => Some(inst.items[n].value_range(inst).0),
                    _ => None,
                };
            }
        }
    }
    answers
}

fn band_rank(inst: &Instrument, band: Option<&str>) -> usize {
    band.and_then(|b| inst.bands.iter().position(|x| x.id == b)).unwrap_or(0)
}

proptest! {
    #[test]
    fn any_valid_answers_score_within_range_with_flags_from_items_alone(
        which in 0usize..64,
        picks in prop::collection::vec(0usize..8, 20),
        keep in prop::collection::vec(any::<bool>(), 20),
        female in any::<bool>(),
    ) {
        let inst = catalog().iter().nth(which % catalog().iter().count()).unwrap();
        let sex = if female { Sex::Female } else { Sex::Male };
        let answers = valid_answers(inst, &picks, &keep, sex);
        let s = inst.score(&answers, &ctx(Some(sex))).unwrap();
        let total = s.total.unwrap();
        prop_assert!((inst.scoring.min..=inst.scoring.max).contains(&total), "{} total {}", inst.id, total);
        prop_assert_eq!(s.band.is_some(), !inst.bands.is_empty());
        prop_assert_eq!(s.positive.is_some(), inst.positive.is_some());
        // A red flag is exactly its item's rule, never a matter of the total.
        let mut expected: Vec<&str> = inst
            .flags
            .iter()
            .filter(|f| answers[inst.item_index(&f.item).unwrap()].is_some_and(|v| v >= f.at_least))
            .map(|f| f.id.as_str())
            .collect();
        expected.dedup();
        prop_assert_eq!(s.flags, expected);
    }

    #[test]
    fn raising_one_answer_never_lowers_the_total_or_the_band(
        which in 0usize..64,
        picks in prop::collection::vec(0usize..8, 20),
        item in 0usize..20,
    ) {
        let inst = catalog().iter().nth(which % catalog().iter().count()).unwrap();
        let n = item % inst.items.len();
        let keep = vec![true; 20];
        let before = valid_answers(inst, &picks, &keep, Sex::Female);
        let Some(value) = before[n] else { return Ok(()) };
        let Some(higher) = inst.items[n].values(inst).filter(|v| *v > value).min() else { return Ok(()) };
        let mut after = before.clone();
        after[n] = Some(higher);
        // Raising an answer may switch a skip rule off (e.g. AUDIT item 1 above "never"): then the
        // answers are no longer complete, which validation must report, not score.
        let (Ok(a), Ok(b)) = (inst.score(&before, &ctx(Some(Sex::Female))), inst.score(&after, &ctx(Some(Sex::Female)))) else {
            return Ok(());
        };
        prop_assert!(b.total >= a.total, "{}: {:?} -> {:?}", inst.id, a.total, b.total);
        prop_assert!(band_rank(inst, b.band) >= band_rank(inst, a.band), "{}", inst.id);
    }

    #[test]
    fn changing_answers_outside_the_flag_items_never_changes_the_flags(
        which in 0usize..64,
        picks in prop::collection::vec(0usize..8, 20),
        other in prop::collection::vec(0usize..8, 20),
    ) {
        let inst = catalog().iter().nth(which % catalog().iter().count()).unwrap();
        let keep = vec![false; 20];
        let flag_items: Vec<usize> = inst.flags.iter().map(|f| inst.item_index(&f.item).unwrap()).collect();
        let mut mixed = other.clone();
        for n in &flag_items {
            mixed[*n] = picks[*n];
        }
        let a = inst.score(&valid_answers(inst, &picks, &keep, Sex::Male), &ctx(Some(Sex::Male))).unwrap();
        let b = inst.score(&valid_answers(inst, &mixed, &keep, Sex::Male), &ctx(Some(Sex::Male))).unwrap();
        prop_assert_eq!(a.flags, b.flags);
    }
}

#[test]
fn either_self_harm_question_answered_yes_raises_the_flag_once() {
    assert!(ok("self_harm_questions", "0,0", None).flags.is_empty());
    assert_eq!(ok("self_harm_questions", "1,0", None).flags, ["self_harm"], "thoughts in the past month");
    assert_eq!(ok("self_harm_questions", "0,1", None).flags, ["self_harm"], "an act in the past year");
    assert_eq!(ok("self_harm_questions", "1,1", None).flags, ["self_harm"], "one flag, not two");
    let s = ok("self_harm_questions", "1,1", None);
    assert_eq!((s.band, s.positive), (None, None), "no band and no cut-off");
}

#[test]
fn every_instrument_file_is_embedded_and_every_embedded_one_is_a_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../instruments");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".toml").map(str::to_owned))
        .collect();
    on_disk.sort();
    let embedded: Vec<&str> = super::FILES.iter().map(|(name, _)| *name).collect();
    assert_eq!(on_disk, embedded, "instruments/ and FILES in instrument/mod.rs list the same files, sorted");
}

#[test]
fn audit_level_of_intervention_follows_the_manual_table_and_its_step_up_rule() {
    let level = |answers: &str| {
        let s = ok("audit", answers, None);
        let d = serde_json::to_value(&s).unwrap()["detail"].clone();
        (
            s.band.unwrap().to_owned(),
            d["zone"].as_str().unwrap().to_owned(),
            d["intervention"].as_str().unwrap().to_owned(),
            d["why"].clone(),
        )
    };
    let none = serde_json::Value::Null;
    // The total's zone, at each zone's edges.
    assert_eq!(level("4,3,0,0,0,0,0,0,0,0"), ("low_risk".into(), "I".into(), "alcohol_education".into(), none.clone()));
    assert_eq!(level("4,4,0,0,0,0,0,0,0,0"), ("hazardous".into(), "II".into(), "simple_advice".into(), none.clone()));
    assert_eq!(level("4,4,4,0,0,0,1,1,2,0").2, "brief_counselling");
    assert_eq!(level("4,4,4,4,0,0,0,0,4,4").2, "specialist_referral");
    // 2 on any one of items 4-6 steps up one level, whatever the total; the band stays the total's.
    let (band, zone, intervention, why) = level("1,0,1,0,2,0,0,0,0,0");
    assert_eq!((band.as_str(), zone.as_str(), intervention.as_str()), ("low_risk", "II", "simple_advice"));
    assert_eq!(why, serde_json::json!(["dependence_signs"]));
    // 1 on items 4-6 is not enough.
    assert_eq!(level("1,0,1,1,1,1,0,0,0,0").1, "I");
    // 4 on item 9 or 10 (harm during the last year) steps up; 2 (not in the last year) does not.
    assert_eq!(level("1,0,0,-,-,-,-,-,4,0").3, serde_json::json!(["harm_experienced"]));
    assert_eq!(level("1,0,0,-,-,-,-,-,2,2").1, "I");
    // Both reasons name themselves; zone IV cannot go higher.
    let (_, zone, _, why) = level("4,4,4,4,2,2,0,0,4,4");
    assert_eq!((zone.as_str(), why), ("IV", serde_json::json!(["dependence_signs", "harm_experienced"])));
}

#[test]
fn the_phq15_form_leaves_out_item_4_for_men_only() {
    let phq15 = instrument("phq15");
    assert_eq!(phq15.not_asked_of(Sex::Male).collect::<Vec<_>>(), ["4"]);
    assert_eq!(phq15.not_asked_of(Sex::Female).count(), 0);
    assert!(phq15.may_leave_out("4", Sex::Male) && !phq15.may_leave_out("4", Sex::Female));
    // Interview rules apply to both sexes.
    assert!(instrument("k10").may_leave_out("3", Sex::Female));
}

#[test]
fn every_tajik_item_and_answer_has_its_back_translation_for_review() {
    #[derive(serde::Deserialize)]
    struct Entry {
        instrument: String,
        at: String,
        tg: String,
        back: String,
        source: String,
        #[allow(dead_code)]
        reviewed: bool,
    }
    #[derive(serde::Deserialize)]
    struct Review {
        text: Vec<Entry>,
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../instruments/review/tg.toml");
    let review: Review = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut expected = Vec::new();
    for inst in catalog().iter() {
        for (name, set) in &inst.response_sets {
            for o in &set.options {
                expected.push((
                    inst.id.clone(),
                    format!("answer {name}.{}", o.value),
                    o.text.tg.clone(),
                    o.text.en.clone(),
                ));
            }
        }
        for item in &inst.items {
            expected.push((inst.id.clone(), format!("item {}", item.id), item.text.tg.clone(), item.text.en.clone()));
        }
    }
    let mut problems = Vec::new();
    for (id, at, tg, en) in &expected {
        match review.text.iter().find(|e| &e.instrument == id && &e.at == at) {
            None => problems.push(format!("{id} {at}: no entry")),
            Some(e) if &e.tg != tg || &e.source != en => {
                problems.push(format!("{id} {at}: the wording changed; review it again"))
            }
            Some(e) if e.back.trim().is_empty() => problems.push(format!("{id} {at}: no back-translation")),
            Some(_) => {}
        }
    }
    let stale = review.text.iter().filter(|e| !expected.iter().any(|(id, at, ..)| id == &e.instrument && at == &e.at));
    problems.extend(stale.map(|e| format!("{} {}: no such text any more", e.instrument, e.at)));
    assert!(problems.is_empty(), "instruments/review/tg.toml:\n{}", problems.join("\n"));
}

#[test]
fn phq9_item_10_is_asked_recorded_and_never_scored() {
    let phq9 = instrument("phq9");
    let c = ScoreContext::default();
    let nine = parse_answers("3,3,3,3,3,3,3,3,3").unwrap();
    let without = phq9.score(&nine, &c).unwrap();
    assert_eq!(without.total, Some(27));
    let difficulty = |s: &super::Score<'_>| match &s.detail {
        Some(Detail::Phq9(p)) => p.difficulty,
        other => panic!("{other:?}"),
    };
    assert_eq!(difficulty(&without), None);
    // Left out with `-`, or answered: the total is the same, the answer is kept in the detail.
    let skipped = phq9.score(&parse_answers("3,3,3,3,3,3,3,3,3,-").unwrap(), &c).unwrap();
    assert_eq!((skipped.total, difficulty(&skipped)), (Some(27), None));
    let answered = phq9.score(&parse_answers("0,0,0,0,0,0,0,0,0,3").unwrap(), &c).unwrap();
    assert_eq!((answered.total, difficulty(&answered)), (Some(0), Some(3)));
    assert_eq!(answered.band, Some("minimal"));
    assert!(matches!(
        phq9.score(&parse_answers("0,0,0,0,0,0,0,0,0,4").unwrap(), &c),
        Err(AnswerError::OutOfRange { item: 10, .. })
    ));
    assert_eq!(
        phq9.score(&[Some(0); 11], &c).unwrap_err().to_string(),
        "phq9 has 10 items, the last one optional, got 11 answers"
    );
}

#[test]
fn an_optional_item_must_come_last_and_count_for_nothing() {
    let base = include_str!("../../../../instruments/phq9.toml");
    let scored = base.replace("items = [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"]\n", "");
    assert!(Instrument::parse(&scored).unwrap_err().contains("left out of scoring.items"));
    let early =
        base.replacen("response_set = \"frequency\"\ntext", "response_set = \"frequency\"\noptional = true\ntext", 1);
    assert!(Instrument::parse(&early).unwrap_err().contains("after the required ones"));
}
