//! Every resource Hamroh writes is valid FHIR, as judged by an independent validator (PyPI's
//! `fhir.resources`, installed by the test command), and says what the records say.

use std::path::Path;
use std::process::Command;

use hamroh_demo::{DemoConfig, DemoPeople, directory};
use hamroh_domain::instrument::catalog;
use hamroh_interop::fhir::{Identity, person_bundle, questionnaire};

fn validate(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fhir/validate.py");
    let out = Command::new("python3").arg(script).arg(dir).output().expect("python3 runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "FHIR validation failed (is fhir.resources installed? scripts/test installs it):\n{text}"
    );
}

#[test]
fn questionnaires_and_person_bundles_are_valid_fhir() {
    let dir = tempfile::tempdir().unwrap();
    for inst in catalog().iter() {
        let q = questionnaire(inst);
        std::fs::write(dir.path().join(format!("questionnaire-{}.json", inst.id)), q.to_string()).unwrap();
    }
    let demo_dir = directory();
    let config = DemoConfig { people: 60, seed: 4, as_of: jiff::civil::date(2026, 10, 31) };
    let batch = DemoPeople::new(config, &demo_dir).next_chunk(60).unwrap();
    let mut with_referral = 0;
    for (n, rec) in batch.persons.iter().enumerate() {
        let screenings: Vec<_> = batch.screenings.iter().filter(|s| s.person_id == rec.person.id).cloned().collect();
        let referrals: Vec<_> = batch.referrals.iter().filter(|r| r.person_id == rec.person.id).cloned().collect();
        with_referral += usize::from(!referrals.is_empty());
        let identity = if n % 2 == 0 { Identity::Pseudonymous } else { Identity::ForCare };
        let bundle = person_bundle(&rec.person, identity, &screenings, &referrals, catalog(), 1_790_000_000_000);
        std::fs::write(dir.path().join(format!("bundle-{n}.json")), bundle.to_string()).unwrap();
    }
    assert!(with_referral > 0, "the sample includes referrals");
    validate(dir.path());
}

#[test]
fn a_bundle_says_what_the_record_says_and_names_no_one_unless_for_care() {
    let demo_dir = directory();
    let config = DemoConfig { people: 40, seed: 8, as_of: jiff::civil::date(2026, 10, 31) };
    let batch = DemoPeople::new(config, &demo_dir).next_chunk(40).unwrap();
    let rec = batch.persons.iter().find(|p| batch.screenings.iter().any(|s| s.person_id == p.person.id)).unwrap();
    let screenings: Vec<_> = batch.screenings.iter().filter(|s| s.person_id == rec.person.id).cloned().collect();
    let bundle = person_bundle(&rec.person, Identity::Pseudonymous, &screenings, &[], catalog(), 1_790_000_000_000);
    let text = bundle.to_string();
    if let Some(name) = &rec.person.family_name {
        assert!(!text.contains(name.as_str()), "a pseudonymous bundle holds no name");
    }
    let entries = bundle["entry"].as_array().unwrap();
    let responses = entries.iter().filter(|e| e["resource"]["resourceType"] == "QuestionnaireResponse").count();
    assert_eq!(responses, screenings.len());
    let phq9 = screenings.iter().find(|s| s.instrument == "phq9");
    if let Some(s) = phq9 {
        let obs = entries
            .iter()
            .map(|e| &e["resource"])
            .find(|r| {
                r["resourceType"] == "Observation" && r["derivedFrom"][0]["reference"] == format!("urn:uuid:{}", s.id)
            })
            .expect("an Observation for the PHQ-9 total");
        assert_eq!(obs["code"]["coding"][0]["code"], "44261-6", "LOINC PHQ-9 total score");
        assert_eq!(obs["valueInteger"], s.outcome.total.unwrap());
    }
    let care = person_bundle(&rec.person, Identity::ForCare, &screenings, &[], catalog(), 1_790_000_000_000);
    if let Some(name) = &rec.person.family_name {
        assert_eq!(care["entry"][0]["resource"]["name"][0]["family"], name.as_str());
    }
}

#[test]
fn a_response_written_by_hamroh_reads_back_as_the_same_answers() {
    let demo_dir = directory();
    let config = DemoConfig { people: 40, seed: 8, as_of: jiff::civil::date(2026, 10, 31) };
    let batch = DemoPeople::new(config, &demo_dir).next_chunk(40).unwrap();
    for s in batch.screenings.iter().take(60) {
        let rec = batch.persons.iter().find(|p| p.person.id == s.person_id).unwrap();
        let bundle = person_bundle(&rec.person, Identity::Pseudonymous, std::slice::from_ref(s), &[], catalog(), 0);
        let response = &bundle["entry"][1]["resource"];
        let read = hamroh_interop::fhir::read_responses(response, catalog()).unwrap();
        assert_eq!(read[0].instrument, s.instrument);
        assert_eq!(read[0].answers, s.answers, "{}", s.instrument);
    }
    let bad = serde_json::json!({
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": "urn:hamroh:questionnaire:phq9|1.0",
        "item": [{"linkId": "9", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA0000-0"}}]}]
    });
    let err = hamroh_interop::fhir::read_responses(&bad, catalog()).unwrap_err();
    assert!(err.contains("item 9") && err.contains("LA0000-0"), "{err}");
    let unknown = serde_json::json!({"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": "urn:x:other"});
    assert!(hamroh_interop::fhir::read_responses(&unknown, catalog()).unwrap_err().contains("not an instrument"));
}

#[test]
fn words_typed_into_a_referral_leave_only_in_a_care_bundle() {
    let demo_dir = directory();
    let config = DemoConfig { people: 60, seed: 4, as_of: jiff::civil::date(2026, 10, 31) };
    let batch = DemoPeople::new(config, &demo_dir).next_chunk(60).unwrap();
    let mut referral = batch.referrals.first().expect("the demo refers someone").clone();
    let rec = batch.persons.iter().find(|p| p.person.id == referral.person_id).unwrap();
    referral.reason = "Call Rahimov Firuz on +992 93 123 4567".into();
    let mut declined = referral.events.last().unwrap().clone();
    declined.barrier = Some(hamroh_domain::referral::Barrier::Cost);
    declined.reason = Some("his brother Nodir said +992 90 000 1111".into());
    referral.events.push(declined);
    let referrals = [referral];
    let pseudonymous = person_bundle(&rec.person, Identity::Pseudonymous, &[], &referrals, catalog(), 0).to_string();
    for typed in ["Rahimov", "4567", "Nodir", "1111"] {
        assert!(!pseudonymous.contains(typed), "{typed} left in a pseudonymous bundle");
    }
    assert!(pseudonymous.contains(r#""code":"cost""#), "the barrier stays, coded: {pseudonymous}");
    let care = person_bundle(&rec.person, Identity::ForCare, &[], &referrals, catalog(), 0).to_string();
    assert!(care.contains("Rahimov Firuz") && care.contains("Nodir"), "a care bundle carries the words");
}
