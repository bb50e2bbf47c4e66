//! FHIR at the API: a screening taken elsewhere arrives as a QuestionnaireResponse and is scored by
//! the engine like any other; the person's record leaves as a Bundle that an independent validator
//! accepts; bad input changes nothing.

mod support;

use axum::http::StatusCode;
use hamroh_domain::org::Role;
use hamroh_store::on_both_backends;
use hamroh_store::testing::TestDb;
use serde_json::json;
use support::{request, send, session_for, world};

on_both_backends!(
    a_response_is_scored_like_any_screening_and_the_record_exports_as_a_valid_bundle,
    a_response_is_read_exactly_as_sent_or_refused_naming_what_is_wrong
);

fn post(uri: &str, cookie: &str, body: serde_json::Value) -> axum::http::Request<axum::body::Body> {
    request("POST", uri, Some(cookie), Some(("application/json", body.to_string())))
}

async fn a_response_is_scored_like_any_screening_and_the_record_exports_as_a_valid_bundle(db: &TestDb) {
    let w = world(db).await;
    let clinician = session_for(db, w.users.iter().find(|(r, _)| *r == Role::Clinician).unwrap().1).await;
    let uri = format!("/api/v1/persons/{}/fhir", w.own_person);
    // PHQ-9 with item 9 answered "several days": total 14 (moderate) and the self-harm red flag.
    const CODES: [&str; 4] = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"];
    let answers = [2usize, 2, 1, 2, 2, 1, 2, 1, 1];
    let items: Vec<serde_json::Value> = answers
        .iter()
        .enumerate()
        .map(|(n, v)| {
            let code = CODES[*v];
            json!({"linkId": (n + 1).to_string(), "answer": [{"valueCoding": {"system": "http://loinc.org", "code": code}}]})
        })
        .collect();
    let response = json!({
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "urn:hamroh:questionnaire:phq9|1.0",
        "language": "ru",
        "item": items,
    });
    let made = send(db, post(&uri, &clinician, response.clone())).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let body = made.json();
    assert!(body.to_string().contains("self_harm"), "{body}");
    assert!(body.to_string().contains("moderate"), "{body}");

    let before = db.store.screenings_of(w.own_person).await.unwrap().len();
    let mut bad = response.clone();
    bad["item"][3]["answer"][0]["valueCoding"]["code"] = json!("LA9999-9");
    let refused = send(db, post(&uri, &clinician, bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("item 4"));
    let mut incomplete = response.clone();
    incomplete["item"].as_array_mut().unwrap().pop();
    let refused = send(db, post(&uri, &clinician, incomplete)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "the engine refuses a missing item");
    assert_eq!(db.store.screenings_of(w.own_person).await.unwrap().len(), before, "nothing stored");

    let other = send(db, post(&format!("/api/v1/persons/{}/fhir", w.other_person), &clinician, response)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "another organisation's person stays hidden");

    let bundle = send(db, request("GET", &uri, Some(&clinician), None)).await;
    assert_eq!(bundle.status, StatusCode::OK);
    let value = bundle.json();
    assert_eq!(value["resourceType"], "Bundle");
    let kinds: Vec<&str> =
        value["entry"].as_array().unwrap().iter().map(|e| e["resource"]["resourceType"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"Patient") && kinds.contains(&"QuestionnaireResponse") && kinds.contains(&"Observation"),
        "{kinds:?}"
    );
    assert!(value["entry"][0]["resource"].get("name").is_none(), "pseudonymous by default");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bundle.json"), bundle.body.as_bytes()).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fhir/validate.py");
    let out = std::process::Command::new("python3").arg(script).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    let trail = db.store.audit_of_person(w.own_person, 20).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "read" && e.entity == "referral"), "the export is audited");
}

/// A GAD-7 response in LOINC's codes, all items "not at all", with these fields set.
fn gad7(fields: serde_json::Value) -> serde_json::Value {
    let items: Vec<serde_json::Value> = (1..=7)
        .map(|n| json!({"linkId": n.to_string(), "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6568-5"}}]}))
        .collect();
    let mut r = json!({
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": "urn:hamroh:questionnaire:gad7|1.0", "item": items,
    });
    for (k, v) in fields.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

async fn a_response_is_read_exactly_as_sent_or_refused_naming_what_is_wrong(db: &TestDb) {
    let w = world(db).await;
    let clinician = session_for(db, w.users.iter().find(|(r, _)| *r == Role::Clinician).unwrap().1).await;
    let person = w.own_person;
    let uri = format!("/api/v1/persons/{person}/fhir");
    let code = db.store.person(person).await.unwrap().unwrap().code;

    // About this person, given a week ago in Russian (ru-RU): stored with that time and language.
    let authored = "2026-11-25T09:30:00+05:00";
    let ok =
        gad7(json!({"subject": {"reference": format!("Patient/{person}")}, "authored": authored, "language": "ru-RU"}));
    let made = send(db, post(&uri, &clinician, ok)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let stored = db.store.screenings_of(person).await.unwrap();
    let s = stored.iter().find(|s| s.instrument == "gad7").unwrap();
    assert_eq!(s.encounter_at, authored.parse::<jiff::Timestamp>().unwrap().as_millisecond());
    assert_eq!(s.lang, hamroh_domain::org::Lang::Ru);
    // The person's Hamroh code as an identifier names them too.
    let by_code =
        gad7(json!({"subject": {"identifier": {"system": "urn:hamroh:person-code", "value": code.to_lowercase()}}}));
    assert_eq!(send(db, post(&uri, &clinician, by_code)).await.status, StatusCode::CREATED);

    let before = db.store.screenings_of(person).await.unwrap().len();
    let refused = |r: &str| serde_json::from_str::<serde_json::Value>(r).unwrap();
    let mut two = gad7(json!({}));
    two["item"][2]["answer"] = json!([{"valueInteger": 0}, {"valueInteger": 1}]);
    let mut system = gad7(json!({}));
    system["item"][4]["answer"][0]["valueCoding"]["system"] = json!("http://snomed.info/sct");
    for (body, code, names) in [
        (gad7(json!({"subject": {"reference": format!("Patient/{}", w.other_person)}})), "subject_mismatch", "subject"),
        (gad7(json!({"subject": {"reference": "Patient/someone-else"}})), "subject_mismatch", "subject"),
        (gad7(json!({"authored": "2099-01-01T00:00:00Z"})), "invalid_authored", "future"),
        (gad7(json!({"authored": "1899-12-31"})), "invalid_authored", "2000"),
        (gad7(json!({"language": "de"})), "invalid_fhir", "language de"),
        (gad7(json!({"questionnaire": "urn:hamroh:questionnaire:gad7|9.9"})), "invalid_fhir", "version 9.9"),
        (gad7(json!({"questionnaire": "http://example.org/Questionnaire/gad7"})), "invalid_fhir", "not an instrument"),
        (two, "invalid_fhir", "item 3"),
        (system, "invalid_fhir", "item 5"),
    ] {
        let answer = send(db, post(&uri, &clinician, body.clone())).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", answer.body);
        let error = &refused(&answer.body)["error"];
        assert_eq!(error["code"], code, "{body}");
        assert!(error["message"].as_str().unwrap().contains(names), "{}", error["message"]);
    }
    assert_eq!(db.store.screenings_of(person).await.unwrap().len(), before, "nothing stored");
    // LOINC's own canonical for the panel is read as the instrument.
    let loinc = gad7(json!({"questionnaire": "http://loinc.org/q/69737-5"}));
    assert_eq!(send(db, post(&uri, &clinician, loinc)).await.status, StatusCode::CREATED);
}
