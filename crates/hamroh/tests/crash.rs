//! The crash test: clients register people with idempotency keys, retrying until answered, while
//! the server is killed with SIGKILL and restarted several times. Afterwards every request is
//! stored exactly once with its audit event, the audit chain is whole and SQLite's integrity check
//! passes.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{demo_db, post_json, serve_at, token};

const REQUESTS: usize = 800;
const CLIENTS: usize = 4;

/// What the client learnt about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Created,
    /// Carried out, but its answer was lost with the server that wrote it.
    WrittenAnswerLost,
}

fn register(address: &str, token: &str, n: usize) -> Answer {
    let body = format!(
        r#"{{"given_name":"Crash{n}","family_name":"Test","sex":"male","birth_year":"1990",
            "district":"TJ-KT.kulob","consents":["care"],"confirm_new":true}}"#
    );
    let auth = format!("Bearer {token}");
    let key = format!("crash-{n}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "request {n} never answered");
        let headers = [("Authorization", auth.as_str()), ("Idempotency-Key", key.as_str())];
        match post_json(address, "/api/v1/persons", &headers, &body) {
            Ok((201, _)) => return Answer::Created,
            Ok((409, body)) if body.contains("idempotency_answer_lost") => return Answer::WrittenAnswerLost,
            // In progress in the server that just died, or the database busy: try again.
            Ok((409 | 503, _)) | Err(_) => std::thread::sleep(Duration::from_millis(50)),
            Ok((status, body)) => panic!("request {n}: {status} {body}"),
        }
    }
}

#[test]
fn keyed_writes_survive_sigkill_exactly_once_with_their_audit_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path(), "10");
    let token = token(&db, "clinician");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    let mut server = serve_at(&db, &address, &[]);

    let finished = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (address, token, finished) = (address.clone(), token.clone(), finished.clone());
            std::thread::spawn(move || {
                let answers: Vec<Answer> =
                    (0..REQUESTS).filter(|n| n % CLIENTS == c).map(|n| register(&address, &token, n)).collect();
                finished.fetch_add(1, Ordering::SeqCst);
                answers
            })
        })
        .collect();
    let mut kills = 0;
    for pause in [150, 250, 200, 300, 150] {
        std::thread::sleep(Duration::from_millis(pause));
        if finished.load(Ordering::SeqCst) == CLIENTS {
            break;
        }
        // SIGKILL: no shutdown, no flush; then a new server on the same database and port.
        drop(server);
        kills += 1;
        server = serve_at(&db, &address, &[]);
    }
    let answers: Vec<Answer> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    drop(server);
    assert!(kills >= 2, "the server was killed {kills} times before the clients finished");
    assert_eq!(answers.len(), REQUESTS);
    eprintln!(
        "{kills} kills; {} answers lost with the server and reported as such on retry",
        answers.iter().filter(|a| **a == Answer::WrittenAnswerLost).count()
    );

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let url: hamroh_store::DbUrl = db.parse().unwrap();
        let store = hamroh_store::Store::open(&url).await.unwrap();
        let pool = sqlx::SqlitePool::connect(&db.replace("sqlite://", "sqlite:")).await.unwrap();
        for n in 0..REQUESTS {
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
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
        assert_eq!(integrity, "ok");
        assert!(store.verify_audit().await.unwrap().is_ok());
        pool.close().await;
        store.close().await;
    });
}
