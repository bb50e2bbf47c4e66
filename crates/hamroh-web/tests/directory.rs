//! Coordinators keep the service directory: a service they add is found on the public page, a
//! change is audited with the fields it touched, and a refused form keeps what was typed.

mod support;

use axum::http::StatusCode;
use hamroh_domain::org::Role;
use hamroh_store::on_both_backends;
use hamroh_store::testing::TestDb;
use support::{form, request, send, session_for, world};

on_both_backends!(a_coordinator_adds_and_changes_a_service_and_every_change_is_audited);

async fn a_coordinator_adds_and_changes_a_service_and_every_change_is_audited(db: &TestDb) {
    let w = world(db).await;
    let coordinator = w.users.iter().find(|(r, _)| *r == Role::Coordinator).unwrap().1;
    let cookie = session_for(db, coordinator).await;
    let body = format!(
        "organisation_id={}&name=Peer+support+group&sector=ngo&service_type=peer+support&response_days=5\
         &areas=TJ-SU&areas=TJ-KT.kulob&languages=tg&languages=uz&cost=free&accessible=yes\
         &contact=Office+3&opening_hours=Sat+10-14",
        w.ours
    );
    let added = send(db, form("/directory/services", Some(&cookie), &body)).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);

    let found = send(db, request("GET", "/api/v1/services?district=TJ-KT.kulob&sector=ngo", None, None)).await;
    let services = found.json();
    let service = services.as_array().unwrap().iter().find(|s| s["name"] == "Peer support group").unwrap().clone();
    assert_eq!(service["languages"], serde_json::json!(["tg", "uz"]));
    assert_eq!(service["accessible"], true);
    let public = send(db, request("GET", "/directory?district=TJ-SU.khujand&sector=ngo&lang=en", None, None)).await;
    assert!(public.body.contains("Peer support group") && public.body.contains("Uzbek"), "{}", public.body);

    let id = service["id"].as_str().unwrap();
    let changed = body.replace("response_days=5", "response_days=9").replace("&accessible=yes", "");
    let saved = send(db, form(&format!("/directory/services/{id}"), Some(&cookie), &changed)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let trail = db.store.audit_of_entity("service", id, 10).await.unwrap();
    let actions: Vec<(&str, Option<&str>)> = trail.iter().map(|e| (e.action.as_str(), e.detail.as_deref())).collect();
    assert_eq!(actions, [("update", Some("response_days,accessible")), ("create", None)]);
    assert!(trail.iter().all(|e| e.actor.contains(&coordinator.to_string())), "{trail:?}");

    let bad = body.replace("response_days=5", "response_days=500").replace("&languages=tg&languages=uz", "");
    let refused = send(db, form(&format!("/directory/services/{id}"), Some(&cookie), &bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("value=\"500\"") && refused.body.contains("Peer support group"));
    assert!(refused.body.contains("response_days-err") && refused.body.contains("languages-err"));
    let still = db.store.service(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(still.response_days, 9);

    // The name in Tajik: the Tajik page shows it; the Russian page, which has no translation,
    // shows the English words marked as English. The change is audited as a translation.
    let tajik: String = form_urlencoded::byte_serialize("Гурӯҳи дастгирии ҳамсолон".as_bytes()).collect();
    let translated = format!("{changed}&text_lang=en&tr.tg.name={tajik}&tr.tg.opening_hours=Шанбе+10-14");
    let saved = send(db, form(&format!("/directory/services/{id}"), Some(&cookie), &translated)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let tg = send(db, request("GET", "/directory?district=TJ-SU.khujand&sector=ngo&lang=tg", None, None)).await;
    assert!(tg.body.contains("Гурӯҳи дастгирии ҳамсолон") && tg.body.contains("Шанбе 10-14"), "{}", tg.body);
    assert!(!tg.body.contains("Peer support group"), "the translation, not the English");
    let ru = send(db, request("GET", "/directory?district=TJ-SU.khujand&sector=ngo&lang=ru", None, None)).await;
    assert!(ru.body.contains("Peer support group (по-английски)"), "{}", ru.body);
    let trail = db.store.audit_of_entity("service", id, 10).await.unwrap();
    assert_eq!(trail[0].detail.as_deref(), Some("translations"));
    let edit = send(db, request("GET", &format!("/directory/services/{id}"), Some(&cookie), None)).await;
    assert!(edit.body.contains(r#"value="Гурӯҳи дастгирии ҳамсолон""#), "the form keeps the translation");
}
