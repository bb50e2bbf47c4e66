//! The forms themselves: one per instrument, the combined encounter form and the registration
//! form, each generated from the instrument files and the message catalogue.

use hamroh_domain::geo::DISTRICTS;
use hamroh_domain::instrument::{Catalog, Instrument, Texts};
use hamroh_domain::migration::{BodyPart, DESTINATIONS, InjuryCause, LegalStatus, ReturnReason, WorkSector};
use hamroh_domain::person::Sex;
use hamroh_domain::safety;

use super::build::{Bind, Choice, FormBuilder, ROOT, literal};
use super::{Wording, XForm};

/// The combined encounter form: the instruments chosen at the visit, in one submission.
pub const ENCOUNTER_FORM: &str = "encounter";
/// The registration form for new returnees.
pub const REGISTRATION_FORM: &str = "registration";

/// The node names of the header every screening form starts with.
pub(super) mod field {
    pub const CODE_SCAN: &str = "person_code_scan";
    pub const CODE_TYPED: &str = "person_code_typed";
    pub const CODE: &str = "person_code";
    pub const LANG: &str = "respondent_lang";
    pub const SEX: &str = "respondent_sex";
    pub const AT: &str = "interview_at";
    pub const INSTRUMENTS: &str = "instruments";
}

/// The node name of an item (XML names cannot start with a digit, item ids can).
pub(super) fn item_node(item_id: &str) -> String {
    format!("q{item_id}")
}

/// Every form, the per-instrument ones in the catalogue's order, then the encounter and the
/// registration form.
pub fn all_forms(catalog: &Catalog, words: &dyn Wording) -> Vec<XForm> {
    let mut out: Vec<XForm> = catalog.iter().map(|i| instrument_form(i, words)).collect();
    out.push(encounter_form(catalog, words));
    out.push(registration_form(words));
    out
}

/// One form by its `formID`.
pub fn form(id: &str, catalog: &Catalog, words: &dyn Wording) -> Option<XForm> {
    match id {
        ENCOUNTER_FORM => Some(encounter_form(catalog, words)),
        REGISTRATION_FORM => Some(registration_form(words)),
        _ => catalog.get(id).map(|i| instrument_form(i, words)),
    }
}

/// Whether a form about these instruments must ask the respondent's sex (an item is asked of one
/// sex only, as PHQ-15 item 4).
fn needs_sex<'a>(mut instruments: impl Iterator<Item = &'a Instrument>) -> bool {
    instruments.any(|i| i.skip.iter().any(|s| s.sex.is_some()))
}

fn instrument_form(inst: &Instrument, words: &dyn Wording) -> XForm {
    let mut f = FormBuilder::new(&inst.id, inst.name.clone());
    header(&mut f, words, needs_sex(std::iter::once(inst)));
    instrument_group(&mut f, inst, None);
    f.finish(&format!("{}-{}", inst.id, inst.version))
}

fn encounter_form(catalog: &Catalog, words: &dyn Wording) -> XForm {
    let mut f = FormBuilder::new(ENCOUNTER_FORM, words.texts("xform-encounter-title"));
    header(&mut f, words, needs_sex(catalog.iter()));
    // The self-harm questions are not chosen: they are asked whenever no chosen instrument asks
    // about self-harm, as at a clinic visit.
    let chosen: Vec<&Instrument> = catalog.iter().filter(|i| i.id != safety::QUESTIONS).collect();
    let instruments = f.path(field::INSTRUMENTS);
    let choices: Vec<Choice> = chosen
        .iter()
        .map(|i| Choice { value: i.id.clone(), label: f.text(&format!("instrument-{}", i.id), &i.name) })
        .collect();
    f.select(field::INSTRUMENTS, &words.texts("xform-instruments"), &choices, &Bind::of("select").required(true), None);
    for inst in &chosen {
        instrument_group(&mut f, inst, Some(format!("selected({instruments}, {})", literal(&inst.id))));
    }
    if let Some(questions) = catalog.get(safety::QUESTIONS) {
        let asking: Vec<String> = chosen
            .iter()
            .filter(|i| safety::asks_about_self_harm(i))
            .map(|i| format!("not(selected({instruments}, {}))", literal(&i.id)))
            .collect();
        let relevant = (!asking.is_empty()).then(|| asking.join(" and "));
        instrument_group(&mut f, questions, relevant);
    }
    f.finish(ENCOUNTER_FORM)
}

/// Who is screened, in which language, and when.
fn header(f: &mut FormBuilder, words: &dyn Wording, ask_sex: bool) {
    let scan = f.input(field::CODE_SCAN, &words.texts("xform-person-code-scan"), &Bind::of("barcode"));
    let typed = Bind {
        required: true,
        relevant: Some(format!("{scan} = ''")),
        constraint: Some((
            r"regex(., '^\s*[Hh][Mm]-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}\s*$')".to_owned(),
            f.text("xform-person-code-invalid", &words.texts("xform-person-code-invalid")),
        )),
        ..Bind::of("string")
    };
    let typed = f.input(field::CODE_TYPED, &words.texts("xform-person-code-typed"), &typed);
    f.hidden(
        field::CODE,
        None,
        &Bind { calculate: Some(format!("if({scan} != '', {scan}, {typed})")), ..Bind::of("string") },
    );
    let langs: Vec<Choice> = ["tg", "ru", "en"]
        .iter()
        .map(|l| Choice {
            value: (*l).to_owned(),
            label: f.text(&format!("lang-{l}"), &words.texts(&format!("lang-name-{l}"))),
        })
        .collect();
    f.select(
        field::LANG,
        &words.texts("xform-respondent-lang"),
        &langs,
        &Bind::of("select1").required(true),
        Some("tg"),
    );
    if ask_sex {
        let sexes: Vec<Choice> = Sex::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: f.text(&format!("sex-{s}"), &words.texts(&format!("sex-{s}"))),
            })
            .collect();
        f.select(field::SEX, &words.texts("xform-respondent-sex"), &sexes, &Bind::of("select1").required(true), None);
    }
    f.hidden(field::AT, None, &Bind { preload: Some(("timestamp", "start")), ..Bind::of("dateTime") });
}

/// An instrument's instructions and items, in a group named by its id.
fn instrument_group(f: &mut FormBuilder, inst: &Instrument, relevant: Option<String>) {
    f.open_group(&inst.id, &inst.name, relevant);
    let instructions = Texts {
        tg: format!("{} ({})", inst.instructions.tg, inst.recall.tg),
        ru: format!("{} ({})", inst.instructions.ru, inst.recall.ru),
        en: format!("{} ({})", inst.instructions.en, inst.recall.en),
    };
    f.note("instructions", &instructions);
    for item in &inst.items {
        let choices: Vec<Choice> = inst.response_sets[&item.response_set]
            .options
            .iter()
            .map(|o| Choice {
                value: o.value.to_string(),
                label: f.text(&format!("{}-{}-{}", inst.id, item.response_set, o.value), &o.text),
            })
            .collect();
        let bind = Bind::of("select1").required(!item.optional).relevant(skip_rule(f, inst, &item.id));
        f.select(&item_node(&item.id), &item.text, &choices, &bind, None);
    }
    f.close_group();
}

/// When an item is asked: every skip rule that leaves it out, negated.
fn skip_rule(f: &FormBuilder, inst: &Instrument, item_id: &str) -> Option<String> {
    let sex = format!("/{ROOT}/{}", field::SEX);
    let rules: Vec<String> = inst
        .skip
        .iter()
        .filter(|s| s.items.iter().any(|i| i == item_id))
        .filter_map(|s| {
            if let Some(sex_skipped) = s.sex {
                return Some(format!("{sex} != {}", literal(sex_skipped.as_str())));
            }
            let (Some(of), Some(equals)) = (&s.when_sum_of, s.equals) else { return None };
            let sum: Vec<String> = of.iter().map(|i| format!("number({})", f.path(&item_node(i)))).collect();
            Some(format!("({}) != {equals}", sum.join(" + ")))
        })
        .collect();
    (!rules.is_empty()).then(|| rules.join(" and "))
}

/// A returnee's registration: the person, the last stay abroad and the consents.
fn registration_form(words: &dyn Wording) -> XForm {
    let mut f = FormBuilder::new(REGISTRATION_FORM, words.texts("xform-registration-title"));
    let required = |kind| Bind::of(kind).required(true);
    f.input("given_name", &words.texts("person-given-name"), &required("string"));
    f.input("family_name", &words.texts("person-family-name"), &required("string"));
    let sexes = coded(&mut f, words, "sex", Sex::ALL.iter().map(|c| c.as_str()));
    f.select("sex", &words.texts("person-sex"), &sexes, &required("select1"), None);
    let birth_year = Bind {
        constraint: Some((
            ". >= 1900 and . <= 2100".into(),
            f.text("error-birth-year", &words.texts("error-birth-year")),
        )),
        ..required("int")
    };
    f.input("birth_year", &words.texts("person-birth-year"), &birth_year);
    let districts: Vec<Choice> = DISTRICTS
        .iter()
        .map(|d| Choice {
            value: d.code.to_owned(),
            label: f
                .text(&format!("district-{}", d.code), &Texts { tg: d.tg.into(), ru: d.ru.into(), en: d.en.into() }),
        })
        .collect();
    f.select("district", &words.texts("person-district"), &districts, &required("select1"), None);
    f.input("phone", &words.texts("person-phone"), &Bind::of("string"));

    f.open_group("stay", &words.texts("register-episode"), None);
    let countries: Vec<Choice> = DESTINATIONS
        .iter()
        .map(|c| Choice {
            value: c.code.to_owned(),
            label: f.text(&format!("country-{}", c.code), &Texts { tg: c.tg.into(), ru: c.ru.into(), en: c.en.into() }),
        })
        .collect();
    f.select("destination_country", &words.texts("episode-country"), &countries, &required("select1"), None);
    f.input("destination_region", &words.texts("episode-region"), &Bind::of("string"));
    let year = Bind {
        constraint: Some((". >= 1970 and . <= 2100".into(), f.text("error-year", &words.texts("error-year")))),
        ..required("int")
    };
    f.input("year_from", &words.texts("episode-year-from"), &year);
    let year_to = Bind {
        constraint: Some((
            format!(". >= {}", f.path("year_from")),
            f.text("error-year-to", &words.texts("error-year-to")),
        )),
        ..Bind::of("int")
    };
    f.input("year_to", &words.texts("episode-year-to"), &year_to);
    let sectors = coded(&mut f, words, "work_sector", WorkSector::ALL.iter().map(|c| c.as_str()));
    f.select("work_sector", &words.texts("episode-sector"), &sectors, &required("select1"), None);
    f.input("occupation", &words.texts("episode-occupation"), &Bind::of("string"));
    let statuses = coded(&mut f, words, "legal_status", LegalStatus::ALL.iter().map(|c| c.as_str()));
    f.select("legal_status", &words.texts("episode-legal-status"), &statuses, &Bind::of("select1"), None);
    f.input("return_date", &words.texts("episode-return-date"), &Bind::of("date"));
    let reasons = coded(&mut f, words, "return_reason", ReturnReason::ALL.iter().map(|c| c.as_str()));
    f.select("return_reason", &words.texts("episode-return-reason"), &reasons, &Bind::of("select1"), None);
    let yes_no = yes_no(&mut f, words);
    let injury = f.select("injury", &words.texts("episode-injury"), &yes_no, &required("select1"), None);
    let injured = Some(format!("{injury} = 'yes'"));
    let causes = coded(&mut f, words, "injury_cause", InjuryCause::ALL.iter().map(|c| c.as_str()));
    f.select(
        "injury_cause",
        &words.texts("episode-injury-cause"),
        &causes,
        &required("select1").relevant(injured.clone()),
        None,
    );
    let parts = coded(&mut f, words, "body_part", BodyPart::ALL.iter().map(|c| c.as_str()));
    f.select(
        "injury_body_part",
        &words.texts("episode-injury-body-part"),
        &parts,
        &required("select1").relevant(injured),
        None,
    );
    f.close_group();

    let care = Bind {
        constraint: Some((". = 'yes'".into(), f.text("error-consent-care", &words.texts("error-consent-care")))),
        ..required("select1")
    };
    f.select("consent_care", &words.texts("consent-care"), &yes_no, &care, None);
    f.select("consent_research", &words.texts("consent-research"), &yes_no, &required("select1"), None);
    let how: Vec<Choice> = ["verbal", "written"]
        .iter()
        .map(|h| Choice {
            value: (*h).into(),
            label: f.text(&format!("consent-how-{h}"), &words.texts(&format!("consent-how-{h}"))),
        })
        .collect();
    f.select("consent_how", &words.texts("consent-how"), &how, &required("select1"), None);
    f.hidden(field::AT, None, &Bind { preload: Some(("timestamp", "start")), ..Bind::of("dateTime") });
    f.finish(REGISTRATION_FORM)
}

/// The choices of a coded vocabulary, labelled by the catalogue's `<prefix>-<code>` messages.
fn coded(
    f: &mut FormBuilder,
    words: &dyn Wording,
    prefix: &str,
    codes: impl Iterator<Item = &'static str>,
) -> Vec<Choice> {
    codes
        .map(|c| {
            let key = format!("{prefix}-{c}");
            Choice { value: c.to_owned(), label: f.text(&key, &words.texts(&key)) }
        })
        .collect()
}

fn yes_no(f: &mut FormBuilder, words: &dyn Wording) -> Vec<Choice> {
    ["yes", "no"]
        .iter()
        .map(|v| Choice {
            value: (*v).into(),
            label: f.text(&format!("xform-{v}"), &words.texts(&format!("xform-{v}"))),
        })
        .collect()
}
