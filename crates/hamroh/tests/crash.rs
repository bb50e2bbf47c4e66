//! The crash test: clients register people, screen them and record their consents with
//! idempotency keys, retrying until answered, while the server is killed with SIGKILL and
//! restarted several times. A screening and a consent read the person (an audited read, which
//! commits) before they write, so a kill between the two must leave the key free for the retry.
//! Afterwards every request is stored exactly once with its audit event (none answered "carried
//! out" is missing), the audit chain is whole and SQLite's integrity check passes.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{demo_db, post_json, serve_at, token};

const REQUESTS: usize = 1_600;
const CLIENTS: usize = 8;

/// What the client learnt about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Created,
    /// Carried out, but its answer was lost with the server that wrote it.
    WrittenAnswerLost,
}

/// Persons registered before the kills, whom the clients screen and whose consents they record.
const SCREENED: usize = 8;

/// Request `n`: a registration, a screening of person `n % SCREENED` or a consent decision of it.
fn request_of(n: usize, persons: &[String]) -> (String, String) {
    let person = &persons[n % SCREENED];
    match n % 3 {
        0 => (
            "/api/v1/persons".into(),
            format!(
                r#"{{"given_name":"Crash{n}","family_name":"Test","sex":"male","birth_year":"1990",
                    "district":"TJ-KT.kulob","consents":["care"],"confirm_new":true}}"#
            ),
        ),
        1 => (
            format!("/api/v1/persons/{person}/encounters"),
            r#"{"screenings":[{"instrument":"phq2","answers":[1,2]}]}"#.into(),
        ),
        _ => (
            format!("/api/v1/persons/{person}/consents"),
            format!(r#"{{"scope":"research","given":{}}}"#, n.is_multiple_of(2)),
        ),
    }
}

fn send(address: &str, token: &str, n: usize, path: &str, body: &str) -> Answer {
    let auth = format!("Bearer {token}");
    let key = format!("crash-{n}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "request {n} never answered");
        let headers = [("Authorization", auth.as_str()), ("Idempotency-Key", key.as_str())];
        match post_json(address, path, &headers, body) {
            Ok((201, _)) => return Answer::Created,
            Ok((409, body)) if body.contains("idempotency_answer_lost") => return Answer::WrittenAnswerLost,
            // In progress in the server that just died, or the database busy: try again.
            Ok((409 | 503, _)) | Err(_) => std::thread::sleep(Duration::from_millis(50)),
            Ok((status, body)) => panic!("request {n}: {status} {body}"),
        }
    }
}

/// The id of a person registered through the API before the test's kills.
fn registered(address: &str, token: &str, k: usize) -> String {
    let body = format!(
        r#"{{"given_name":"Screened{k}","family_name":"Test","sex":"female","birth_year":"1985",
            "district":"TJ-KT.kulob","consents":["care"],"confirm_new":true}}"#
    );
    let (status, answer) =
        post_json(address, "/api/v1/persons", &[("Authorization", &format!("Bearer {token}"))], &body)
            .expect("the server answers");
    assert_eq!(status, 201, "{answer}");
    let value: serde_json::Value = serde_json::from_str(&answer).unwrap();
    value["id"].as_str().expect("the person's id").to_owned()
}

#[test]
fn keyed_writes_survive_sigkill_exactly_once_with_their_audit_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path(), "10");
    let token = token(&db, "clinician");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let mut server = serve_at(&db, &address, &[]);
    let persons: Arc<Vec<String>> = Arc::new((0..SCREENED).map(|k| registered(&address, &token, k)).collect());

    let finished = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (address, token, finished, persons) =
                (address.clone(), token.clone(), finished.clone(), persons.clone());
            std::thread::spawn(move || {
                let answers: Vec<(usize, Answer)> = (0..REQUESTS)
                    .filter(|n| n % CLIENTS == c)
                    .map(|n| {
                        let (path, body) = request_of(n, &persons);
                        (n, send(&address, &token, n, &path, &body))
                    })
                    .collect();
                finished.fetch_add(1, Ordering::SeqCst);
                answers
            })
        })
        .collect();
    let mut kills = 0;
    for pause in [150, 250, 200, 300, 150, 120, 220, 180, 260, 140, 200, 170] {
        std::thread::sleep(Duration::from_millis(pause));
        if finished.load(Ordering::SeqCst) == CLIENTS {
            break;
        }
        // SIGKILL: no shutdown, no flush; then a new server on the same database and port.
        drop(server);
        kills += 1;
        server = serve_at(&db, &address, &[]);
    }
    let answers: Vec<(usize, Answer)> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    drop(server);
    assert!(kills >= 2, "the server was killed {kills} times before the clients finished");
    assert_eq!(answers.len(), REQUESTS);
    let lost = |kind: usize| answers.iter().filter(|(n, a)| n % 3 == kind && *a == Answer::WrittenAnswerLost).count();
    eprintln!(
        "{kills} kills; answers lost with the server and reported as such on retry: {} registrations, {} \
         screenings, {} consents",
        lost(0),
        lost(1),
        lost(2)
    );

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let url: hamroh_store::DbUrl = db.parse().unwrap();
        let store = hamroh_store::Store::open(&url).await.unwrap();
        let pool = sqlx::SqlitePool::connect(&db.replace("sqlite://", "sqlite:")).await.unwrap();
        for n in (0..REQUESTS).filter(|n| n % 3 == 0) {
            let ids: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM persons WHERE given_name = $1")
                .bind(format!("Crash{n}"))
                .fetch_all(&pool)
                .await
                .unwrap();
            assert_eq!(ids.len(), 1, "request {n} stored {} times", ids.len());
            let created: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'create' AND entity = 'person' AND entity_id = $1",
            )
            .bind(ids[0].to_string())
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(created, 1, "request {n}'s person has {created} create events");
        }
        // Every screening and consent request, answered "created" or "carried out", is stored
        // exactly once: a person's count is the number of requests sent for them.
        for (k, person) in persons.iter().enumerate() {
            let person: uuid::Uuid = person.parse().unwrap();
            let sent = |kind: usize| (0..REQUESTS).filter(|n| n % 3 == kind && n % SCREENED == k).count() as i64;
            let screenings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM screenings WHERE person_id = $1")
                .bind(person)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(screenings, sent(1), "person {k}: every screening once");
            let consents: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM consents WHERE person_id = $1 AND scope = 'research'")
                    .bind(person)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            assert_eq!(consents, sent(2), "person {k}: every consent decision once");
            let audited: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_events WHERE person_id = $1 AND action = 'create' AND entity = 'screening'",
            )
            .bind(person)
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(audited, sent(1), "person {k}: every screening audited once");
        }
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
        assert_eq!(integrity, "ok");
        assert!(store.verify_audit().await.unwrap().is_ok());
        pool.close().await;
        store.close().await;
    });
}
