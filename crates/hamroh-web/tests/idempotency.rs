//! A retry with the same Idempotency-Key gets the first answer and writes nothing twice.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hamroh_domain::org::Role;
use hamroh_store::on_both_backends;
use hamroh_store::testing::TestDb;
use support::{send, session_for, world};

on_both_backends!(a_retried_request_is_answered_once, a_form_posted_twice_is_carried_out_once);

fn keyed(uri: &str, cookie: &str, key: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::post(uri).header(header::COOKIE, cookie).header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

async fn a_retried_request_is_answered_once(db: &TestDb) {
    let w = world(db).await;
    let clinician = session_for(db, w.users.iter().find(|(r, _)| *r == Role::Clinician).unwrap().1).await;
    let person = r#"{"family_name": "Retried", "sex": "male", "birth_year": "1985", "district": "TJ-KT.kulob",
        "consents": ["care"], "confirm_new": true}"#;
    let count = || async {
        let found = send(db, support::request("GET", "/api/v1/persons?q=Retried", Some(&clinician), None)).await;
        found.json().as_array().map_or(0, Vec::len)
    };
    let first = send(db, keyed("/api/v1/persons", &clinician, Some("reg-0001"), person)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = send(db, keyed("/api/v1/persons", &clinician, Some("reg-0001"), person)).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body, "the first answer, again");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(count().await, 1, "written once");

    // The same key for another request is refused; another caller's key is their own.
    let other =
        send(db, keyed(&format!("/api/v1/persons/{}/consents", w.own_person), &clinician, Some("reg-0001"), "{}"))
            .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.json()["error"]["code"], "idempotency_key_reused");
    let someone_else = session_for(db, w.users.iter().find(|(r, _)| *r == Role::Specialist).unwrap().1).await;
    let theirs = send(db, keyed("/api/v1/persons", &someone_else, Some("reg-0001"), person)).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert!(theirs.headers.get("idempotent-replayed").is_none());
    assert_eq!(count().await, 2);

    // Without a key, a request runs every time; a malformed key is refused.
    let bad = send(db, keyed("/api/v1/persons", &clinician, Some("no spaces allowed"), person)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(count().await, 2, "nothing written for a malformed key");
}

async fn a_form_posted_twice_is_carried_out_once(db: &TestDb) {
    let w = world(db).await;
    let clinician = session_for(db, w.users.iter().find(|(r, _)| *r == Role::Clinician).unwrap().1).await;
    let page = send(db, support::request("GET", "/persons/new", Some(&clinician), None)).await;
    assert_eq!(page.status, StatusCode::OK);
    let key = page.body.split(r#"name="idempotency_key" value=""#).nth(1).expect("the form carries a key");
    let key = &key[..key.find('"').unwrap()];
    let form = format!(
        "idempotency_key={key}&family_name=Twice&sex=female&birth_year=1991&district=TJ-KT.kulob&consent=care&confirm_new=yes"
    );
    let count = || async {
        let found = send(db, support::request("GET", "/api/v1/persons?q=Twice", Some(&clinician), None)).await;
        found.json().as_array().map_or(0, Vec::len)
    };
    let first = send(db, support::form("/persons", Some(&clinician), &form)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = send(db, support::form("/persons", Some(&clinician), &form)).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.headers[header::LOCATION], first.headers[header::LOCATION], "to the same new record");
    assert_eq!(count().await, 1, "registered once");
}
