//! The forms Hamroh serves to ODK Collect, KoBoCollect and Enketo, checked by ODK Validate (the
//! JavaRosa validator that PyPI's pyxform ships, installed by the test command) and read as a
//! device reads them: three languages, every instrument, the engine's values.

use hamroh_domain::instrument::catalog;
use hamroh_interop::xforms::{ENCOUNTER_FORM, REGISTRATION_FORM, all_forms};

#[test]
fn every_generated_form_passes_odk_validate() {
    let dir = tempfile::tempdir().unwrap();
    let forms = all_forms(catalog(), &hamroh_web::Messages);
    for form in &forms {
        std::fs::write(dir.path().join(format!("{}.xml", form.id)), &form.xml).unwrap();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/xforms/validate.py");
    let out = std::process::Command::new("python3").arg(script).arg(dir.path()).output().expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "ODK Validate failed (are pyxform and Java installed? scripts/test installs them):\n{text}"
    );
    assert!(text.contains(&format!("{0} of {0} forms valid", forms.len())), "{text}");
}

#[test]
fn there_is_a_form_per_instrument_and_one_for_encounters_and_registrations() {
    let forms = all_forms(catalog(), &hamroh_web::Messages);
    let ids: Vec<&str> = forms.iter().map(|f| f.id.as_str()).collect();
    for instrument in catalog().iter() {
        assert!(ids.contains(&instrument.id.as_str()), "no form for {}", instrument.id);
    }
    assert!(ids.contains(&ENCOUNTER_FORM) && ids.contains(&REGISTRATION_FORM));
    for form in &forms {
        for lang in ["Тоҷикӣ (tg)", "Русский (ru)", "English (en)"] {
            assert!(form.xml.contains(&format!("<translation lang=\"{lang}\"")), "{} lacks {lang}", form.id);
        }
        assert!(form.xml.contains(&format!("<data id=\"{}\" version=\"{}\"", form.id, form.version)));
        assert!(form.xml.contains("<meta><instanceID/></meta>"), "{}", form.id);
        assert!(form.hash().starts_with("md5:") && form.hash().len() == 36);
    }
}

#[test]
fn every_translation_carries_every_text_and_the_choices_are_the_engines_values() {
    let phq9 = hamroh_interop::xforms::form("phq9", catalog(), &hamroh_web::Messages).unwrap();
    let translations: Vec<&str> = phq9.xml.split("<translation ").skip(1).collect();
    assert_eq!(translations.len(), 3);
    let ids = |t: &str| t.matches("<text id=").count();
    assert!(translations.iter().all(|t| ids(t) == ids(translations[0])), "a language lacks a text");
    let english = translations.iter().find(|t| t.starts_with("lang=\"English (en)\"")).unwrap();
    assert!(english.contains("Little interest or pleasure in doing things"), "PHQ-9 item 1 in English");
    let instrument = catalog().get("phq9").unwrap();
    for option in &instrument.response_sets[&instrument.items[0].response_set].options {
        assert!(phq9.xml.contains(&format!("<value>{}</value></item>", option.value)), "value {}", option.value);
    }
    assert!(phq9.xml.contains("nodeset=\"/data/phq9/q1\" type=\"select1\" required=\"true()\""));
}
