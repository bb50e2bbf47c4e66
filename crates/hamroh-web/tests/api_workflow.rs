//! The clinician's workflow through the JSON API: register (with the duplicate check), search
//! across scripts, screen, see the red flag and the pathway, decide once.

mod support;

use axum::http::StatusCode;
use hamroh_domain::org::Role;
use hamroh_store::testing::TestDb;
use serde_json::json;
use support::{request, send, session_for, world};

fn json_body(value: serde_json::Value) -> Option<(&'static str, String)> {
    Some(("application/json", value.to_string()))
}

async fn register_search_screen_and_decide(db: &TestDb) {
    let w = world(db).await;
    let clinician = w.users.iter().find(|(r, _)| *r == Role::Clinician).unwrap().1;
    let cookie = session_for(db, clinician).await;
    let c = Some(cookie.as_str());

    let bad = send(
        db,
        request(
            "POST",
            "/api/v1/persons",
            c,
            json_body(json!({"sex": "x", "birth_year": "1890", "consents": ["care"]})),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = bad.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("sex") && message.contains("birth_year") && message.contains("district"), "{message}");

    // The world holds "Раҳимов Фирӯз", born 1990, registered by us: a Latin spelling is a duplicate.
    let person = json!({
        "family_name": "Rakhimov", "given_name": "Firuz", "sex": "male", "birth_year": "1990",
        "district": "TJ-KT.kulob", "consents": ["care", "research"],
        "episodes": [{"destination_country": "RU", "year_from": "2017", "work_sector": "construction"}]
    });
    let dup = send(db, request("POST", "/api/v1/persons", c, json_body(person.clone()))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    assert_eq!(dup.json()["error"]["code"], "possible_duplicates");
    assert!(dup.body.contains("HM-OWN1"));
    let mut confirmed = person;
    confirmed["confirm_new"] = json!(true);
    let made = send(db, request("POST", "/api/v1/persons", c, json_body(confirmed))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.json()["id"].as_str().unwrap().to_owned();

    let found = send(db, request("GET", "/api/v1/persons?q=%D0%A0%D0%B0%D1%85%D0%B8%D0%BC%D0%BE%D0%B2", c, None)).await;
    let ids: Vec<String> =
        found.json().as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect();
    assert!(
        ids.contains(&id) && ids.contains(&w.own_person.to_string()),
        "Рахимов finds Rakhimov and Раҳимов: {ids:?}"
    );
    assert!(!ids.contains(&w.other_person.to_string()), "another clinic's person stays hidden");

    let incomplete = json!({"screenings": [{"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0]}]});
    let refused =
        send(db, request("POST", &format!("/api/v1/persons/{id}/encounters"), c, json_body(incomplete))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let encounter = json!({"respondent_lang": "tg", "screenings": [
        {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1]},
        {"instrument": "wgss", "answers": [1, 1, 3, 1, 1, 1]}
    ]});
    let scored = send(db, request("POST", &format!("/api/v1/persons/{id}/encounters"), c, json_body(encounter))).await;
    assert_eq!(scored.status, StatusCode::CREATED, "{}", scored.body);
    let view = scored.json();
    assert_eq!(view["pathway"]["urgent"], true);
    assert_eq!(view["pathway"]["flags"], json!(["self_harm"]));
    assert_eq!(view["pathway"]["steps"][0]["action"], "urgent_assessment");
    assert!(view["pathway"]["steps"].as_array().unwrap().iter().any(|s| s["action"] == "refer_non_health"));
    let encounter_id = view["encounter_id"].as_str().unwrap().to_owned();

    let urgent = db.store.urgent_items(w.ours, 500).await.unwrap().rows;
    assert!(urgent.iter().any(|u| u.encounter_id.to_string() == encounter_id), "the red flag waits for an action");
    let other = send(
        db,
        request(
            "POST",
            &format!("/api/v1/encounters/{encounter_id}/decision"),
            c,
            json_body(json!({"choice": "other"})),
        ),
    )
    .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "another choice needs an action and a reason");
    let decided = send(
        db,
        request(
            "POST",
            &format!("/api/v1/encounters/{encounter_id}/decision"),
            c,
            json_body(json!({"choice": "follow"})),
        ),
    )
    .await;
    assert_eq!(decided.status, StatusCode::CREATED, "{}", decided.body);
    let again = send(
        db,
        request(
            "POST",
            &format!("/api/v1/encounters/{encounter_id}/decision"),
            c,
            json_body(json!({"choice": "follow"})),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        !db.store
            .urgent_items(w.ours, 500)
            .await
            .unwrap()
            .rows
            .iter()
            .any(|u| u.encounter_id.to_string() == encounter_id)
    );
    let shown = send(db, request("GET", &format!("/api/v1/encounters/{encounter_id}"), c, None)).await;
    assert_eq!(shown.json()["decision"]["choice"], "follow");
    let follow_ups = db.store.follow_ups_of(uuid::Uuid::parse_str(&id).unwrap()).await.unwrap();
    assert!(
        follow_ups.iter().any(|f| f.kind == hamroh_domain::referral::FollowUpKind::Call),
        "a call within a week after a self-harm flag"
    );
}

hamroh_store::on_both_backends!(register_search_screen_and_decide);
