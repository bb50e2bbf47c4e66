use super::*;
use crate::person::Sex;

fn score(id: &str, answers: &[i64]) -> Score {
    let answers: Vec<Option<i64>> = answers.iter().copied().map(Some).collect();
    catalog()
        .get(id)
        .unwrap()
        .score(&answers, &ScoreContext::default())
        .unwrap()
}

/// Answers for a sum instrument whose total is `total`, filling items from the first.
fn answers_summing_to(id: &str, total: i64) -> Vec<i64> {
    let instrument = catalog().get(id).unwrap();
    let mut left = total;
    instrument
        .items
        .iter()
        .map(|item| {
            let (min, max) = item.value_range(instrument);
            let v = left.clamp(min, max);
            left -= v;
            v
        })
        .collect()
}

#[test]
fn every_embedded_file_parses_and_every_language_is_complete() {
    let ids: Vec<&str> = catalog().ids().collect();
    assert_eq!(ids.len(), FILES.len());
    for instrument in catalog().iter() {
        for lang in ["tg", "ru", "en"] {
            assert!(
                instrument.languages.contains_key(lang),
                "{} {lang}",
                instrument.id
            );
        }
    }
}

#[test]
fn phq9_bands_at_every_edge() {
    for (total, band, positive) in [
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
    ] {
        let s = score("phq9", &answers_summing_to("phq9", total));
        assert_eq!(s.total, Some(total));
        assert_eq!(s.band.as_deref(), Some(band), "total {total}");
        assert_eq!(s.positive, Some(positive), "total {total}");
    }
}

#[test]
fn phq9_item_9_raises_self_harm_whatever_the_total() {
    let s = score("phq9", &[0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(s.total, Some(1));
    assert_eq!(s.band.as_deref(), Some("minimal"));
    assert_eq!(s.flags, vec!["self_harm"]);
    let s = score("phq9", &[3, 3, 3, 3, 3, 3, 3, 3, 0]);
    assert!(s.flags.is_empty());
}

#[test]
fn gad7_bands_at_every_edge() {
    for (total, band) in [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ] {
        let s = score("gad7", &answers_summing_to("gad7", total));
        assert_eq!(s.band.as_deref(), Some(band), "total {total}");
        assert_eq!(s.positive, Some(total >= 10));
    }
}

#[test]
fn wgss_counts_domains_with_a_lot_of_difficulty() {
    let s = score("wgss", &[2, 2, 2, 2, 2, 2]);
    assert_eq!(
        (s.total, s.band.as_deref(), s.positive),
        (Some(0), Some("no_disability"), Some(false))
    );
    let s = score("wgss", &[1, 1, 3, 1, 4, 2]);
    assert_eq!(
        (s.total, s.band.as_deref(), s.positive),
        (Some(2), Some("disability"), Some(true))
    );
}

#[test]
fn invalid_answers_name_the_item() {
    let phq9 = catalog().get("phq9").unwrap();
    let ctx = ScoreContext::default();
    let err = phq9.score(&[Some(0); 8], &ctx).unwrap_err();
    assert!(matches!(
        err,
        AnswerError::Count {
            expected: 9,
            got: 8,
            ..
        }
    ));
    let mut answers = vec![Some(0); 9];
    answers[3] = Some(4);
    let err = phq9.score(&answers, &ctx).unwrap_err();
    assert_eq!(
        err.to_string(),
        "item 4: 4 is out of range; expected one of 0, 1, 2, 3"
    );
    answers[3] = None;
    assert_eq!(
        phq9.score(&answers, &ctx).unwrap_err(),
        AnswerError::Missing { item: 4 }
    );
    assert!(matches!(
        parse_answers("0,x,1"),
        Err(AnswerError::NotANumber { item: 2, .. })
    ));
}

#[test]
fn a_deployment_cutoff_overrides_the_manual_and_is_recorded() {
    let phq9 = catalog().get("phq9").unwrap();
    let answers = vec![Some(1); 9];
    let ctx = ScoreContext {
        sex: Some(Sex::Female),
        positive_at_least: Some(8),
    };
    let s = phq9.score(&answers, &ctx).unwrap();
    assert_eq!(s.positive, Some(true));
    assert_eq!(s.cutoff.unwrap().source, "deployment");
    let s = phq9.score(&answers, &ScoreContext::default()).unwrap();
    assert_eq!(s.positive, Some(false));
    assert_eq!(s.cutoff.unwrap().at_least, 10);
}

#[test]
fn a_file_whose_bands_leave_a_gap_is_refused() {
    let text = include_str!("../../../../instruments/gad7.toml")
        .replace("min = 5\nmax = 9", "min = 6\nmax = 9");
    let err = Catalog::parse(&[("gad7", &text)]).unwrap_err();
    assert!(err.contains("band mild must start at 5"), "{err}");
}
