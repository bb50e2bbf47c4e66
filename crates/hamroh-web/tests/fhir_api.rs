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

on_both_backends!(a_response_is_scored_like_any_screening_and_the_record_exports_as_a_valid_bundle);

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
