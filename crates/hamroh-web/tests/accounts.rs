//! Accounts and sessions as users meet them: throttled log-ins, the second factor, API tokens,
//! time-outs, log-out everywhere, consent withdrawal taking effect at once, administration.

mod support;

use axum::http::StatusCode;
use hamroh_domain::access::Scope;
use hamroh_domain::org::Role;
use hamroh_store::Actor;
use hamroh_store::testing::TestDb;
use hamroh_web::AppState;
use support::{PASSWORD, World, form, request, send, send_with, session_for, world};

fn user_of(w: &World, role: Role) -> uuid::Uuid {
    w.users.iter().find(|(r, _)| *r == role).unwrap().1
}

fn login(username: &str, password: &str) -> axum::http::Request<axum::body::Body> {
    form("/login", None, &format!("username={username}&password={}", password.replace(' ', "+")))
}

/// A log-in sent from `address`.
fn login_from(address: [u8; 4], username: &str, password: &str) -> axum::http::Request<axum::body::Body> {
    let mut request = login(username, password);
    let peer = std::net::SocketAddr::from((address, 40_000));
    request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
    request
}

async fn repeated_failures_hold_an_account_back_before_any_hash_and_others_log_in(db: &TestDb) {
    world(db).await;
    let state = AppState::new(db.store.clone());
    for _ in 0..5 {
        assert_eq!(
            send_with(state.clone(), login("clinician", "wrong password!")).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(state.throttle.hashes_computed(), 5);
    for password in ["wrong password!", PASSWORD, "another guess 1", PASSWORD] {
        let held = send_with(state.clone(), login("Clinician", password)).await;
        assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
        assert!(held.headers.contains_key("retry-after"));
    }
    assert_eq!(state.throttle.hashes_computed(), 5, "a held-back log-in computes no hash");
    let before = db.store.audit_len().await.unwrap();
    let ok = send_with(state.clone(), login("specialist", PASSWORD)).await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/"));
    assert!(db.store.audit_len().await.unwrap() > before, "the log-in is in the audit trail");
    assert_eq!(db.store.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

async fn a_flood_from_one_address_is_held_back_before_any_hash_and_other_addresses_log_in(db: &TestDb) {
    world(db).await;
    let state = AppState::new(db.store.clone());
    let flooding = [203, 0, 113, 9];
    // Guesses at many accounts, none more than the per-account limit.
    for n in 0..20 {
        let answer = send_with(state.clone(), login_from(flooding, &format!("guess{}", n % 5), "password123!")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let hashed = state.throttle.hashes_computed();
    assert_eq!(hashed, 20);
    for _ in 0..10 {
        let held = send_with(state.clone(), login_from(flooding, "specialist", PASSWORD)).await;
        assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "the address is held back, whatever the account");
    }
    assert_eq!(state.throttle.hashes_computed(), hashed, "a held-back address computes no hash");
    let ok = send_with(state.clone(), login_from([198, 51, 100, 4], "specialist", PASSWORD)).await;
    assert_eq!((ok.status, ok.location()), (StatusCode::SEE_OTHER, "/"), "the same user from elsewhere logs in");
}

async fn a_second_factor_is_asked_after_the_password(db: &TestDb) {
    let w = world(db).await;
    let secret = hamroh_web::totp::new_secret();
    let id = user_of(&w, Role::Clinician);
    db.store.set_totp(&Actor::system("test"), id, Some(&secret)).await.unwrap();
    let first = send(db, login("clinician", PASSWORD)).await;
    assert_eq!(first.location(), "/login/totp");
    let half = first.cookie();
    let home = send(db, request("GET", "/", Some(&half), None)).await;
    assert!(home.location().starts_with("/login"), "a password alone opens nothing");
    let api = send(db, request("GET", "/api/v1/me", Some(&half), None)).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    let wrong = send(db, form("/login/totp", Some(&half), "code=000000")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let code = hamroh_web::totp::current(&secret, "clinician").unwrap();
    let done = send(db, form("/login/totp", Some(&half), &format!("code={code}"))).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, "/"));
    let full = done.cookie();
    assert_ne!(full, half, "the session id is renewed");
    assert_eq!(send(db, request("GET", "/", Some(&full), None)).await.status, StatusCode::OK);
    assert!(send(db, request("GET", "/", Some(&half), None)).await.location().starts_with("/login"));
}

async fn api_tokens_act_within_their_scopes_until_revoked(db: &TestDb) {
    let w = world(db).await;
    let id = user_of(&w, Role::Clinician);
    let token = "hmr_test-token-0123456789abcdef";
    let token_id = db
        .store
        .create_api_token(&Actor::system("test"), id, "reader", &[Scope::PersonsRead], &hamroh_web::token_hash(token))
        .await
        .unwrap();
    let bearer = |method: &str, uri: &str, body: Option<&str>| {
        let mut b =
            axum::http::Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        b.body(axum::body::Body::from(body.unwrap_or("").to_owned())).unwrap()
    };
    let me = send(db, bearer("GET", "/api/v1/me", None)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["scopes"], serde_json::json!(["persons:read"]));
    let read = send(db, bearer("GET", &format!("/api/v1/persons/{}", w.own_person), None)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.json()["code"], "HM-OWN1");
    let write = send(
        db,
        bearer(
            "POST",
            &format!("/api/v1/persons/{}/consents", w.own_person),
            Some(r#"{"scope":"research","given":true}"#),
        ),
    )
    .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "a read-only token writes nothing");
    assert_eq!(write.json()["error"]["code"], "scope_required");
    // The token's last use is noted, not written on the request path; the background flush
    // writes it once, and an earlier time never replaces a later one.
    let last_used = || async {
        db.store.api_tokens_of(id).await.unwrap().into_iter().find(|t| t.id == token_id).unwrap().last_used_at
    };
    assert_eq!(last_used().await, None, "no bookkeeping write while answering");
    let before = hamroh_store::now_millis();
    assert!(db.store.flush_bookkeeping().await.unwrap() >= 1);
    let written = last_used().await.expect("written by the flush");
    assert!(written <= before && written > before - 60_000, "{written} vs {before}");
    assert_eq!(db.store.flush_bookkeeping().await.unwrap(), 0, "nothing noted since");
    db.store.revoke_api_token(&Actor::system("test"), token_id, None).await.unwrap();
    assert_eq!(send(db, bearer("GET", "/api/v1/me", None)).await.status, StatusCode::UNAUTHORIZED);
}

async fn idle_sessions_end_and_log_out_everywhere_ends_them_all(db: &TestDb) {
    let w = world(db).await;
    let id = user_of(&w, Role::Coordinator);
    let (a, b) = (session_for(db, id).await, session_for(db, id).await);
    assert_eq!(send(db, request("GET", "/", Some(&a), None)).await.status, StatusCode::OK);
    let out = send(db, form("/account/logout-everywhere", Some(&a), "")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    for cookie in [&a, &b] {
        assert!(send(db, request("GET", "/", Some(cookie), None)).await.location().starts_with("/login"));
    }
    // A session in use stays alive by its noted use, before any flush writes it.
    let d = session_for(db, id).await;
    db.tamper("UPDATE sessions SET last_seen_at = last_seen_at - 1200000").await;
    assert_eq!(send(db, request("GET", "/", Some(&d), None)).await.status, StatusCode::OK, "used 20 minutes ago");
    db.tamper("UPDATE sessions SET last_seen_at = last_seen_at - 1200000").await;
    assert_eq!(send(db, request("GET", "/", Some(&d), None)).await.status, StatusCode::OK, "the use just now counts");
    db.store.flush_bookkeeping().await.unwrap();
    let c = session_for(db, id).await;
    db.tamper("UPDATE sessions SET last_seen_at = last_seen_at - 3600000").await;
    assert!(send(db, request("GET", "/", Some(&c), None)).await.location().starts_with("/login"), "idle for an hour");
}

async fn withdrawing_consent_closes_the_record_at_once(db: &TestDb) {
    let w = world(db).await;
    let ours = session_for(db, user_of(&w, Role::CaseWorker)).await;
    let path = format!("/api/v1/persons/{}", w.referred_person);
    assert_eq!(send(db, request("GET", &path, Some(&ours), None)).await.status, StatusCode::OK);
    // The registering clinic records the person's withdrawal of consent to share with our sector.
    let theirs = session_for(db, w.target_user).await;
    let body = r#"{"scope":"sector:primary_care","given":false}"#;
    let withdrawn =
        send(db, request("POST", &format!("{path}/consents"), Some(&theirs), Some(("application/json", body.into()))))
            .await;
    assert_eq!(withdrawn.status, StatusCode::CREATED, "{}", withdrawn.body);
    let after = send(db, request("GET", &path, Some(&ours), None)).await;
    assert_eq!(after.status, StatusCode::NOT_FOUND);
    assert_eq!(after.json()["error"]["code"], "not_found");
    let trail = db.store.audit_of_person(w.referred_person, 100).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "consent_withdrawn"));
    assert!(trail.iter().any(|e| e.outcome == "denied"));
}

async fn administrators_manage_users_with_a_password_policy(db: &TestDb) {
    let w = world(db).await;
    let admin = session_for(db, user_of(&w, Role::Admin)).await;
    let create = |password: &str, username: &str| {
        form(
            "/admin/users",
            Some(&admin),
            &format!(
                "username={username}&display_name=Nodira&organisation_id={}&role=clinician&lang=ru&password={password}",
                w.ours
            ),
        )
    };
    let weak = send(db, create("password123", "nodira")).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("value=\"nodira\""), "what was typed is kept");
    let made = send(db, create("river+stone+window+7", "nodira")).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert_eq!(send(db, create("river+stone+window+7", "nodira")).await.status, StatusCode::CONFLICT);
    let nodira = db.store.user_by_username("nodira").await.unwrap().unwrap();
    assert_eq!(nodira.roles, vec![Role::Clinician]);
    let logged_in = send(db, login("nodira", "river stone window 7")).await;
    assert_eq!(logged_in.location(), "/");
    let session = logged_in.cookie();
    let before = db.store.audit_len().await.unwrap();
    send(db, form(&format!("/admin/users/{}/disable", nodira.id), Some(&admin), "")).await;
    assert!(db.store.audit_len().await.unwrap() > before, "disabling a user is audited");
    assert!(
        send(db, request("GET", "/", Some(&session), None)).await.location().starts_with("/login"),
        "disabling ends sessions"
    );
}

async fn a_deployment_can_require_administrators_to_enrol_a_second_factor(db: &TestDb) {
    let w = world(db).await;
    let state = AppState { require_admin_totp: true, ..AppState::new(db.store.clone()) };
    let admin = session_for(db, user_of(&w, Role::Admin)).await;
    let home = send_with(state.clone(), request("GET", "/admin/users", Some(&admin), None)).await;
    assert_eq!(home.location(), "/account#totp");
    assert_eq!(send_with(state.clone(), request("GET", "/account", Some(&admin), None)).await.status, StatusCode::OK);
    let clinician = session_for(db, user_of(&w, Role::Clinician)).await;
    assert_eq!(send_with(state, request("GET", "/", Some(&clinician), None)).await.status, StatusCode::OK);
}

hamroh_store::on_both_backends!(
    repeated_failures_hold_an_account_back_before_any_hash_and_others_log_in,
    a_flood_from_one_address_is_held_back_before_any_hash_and_other_addresses_log_in,
    a_second_factor_is_asked_after_the_password,
    api_tokens_act_within_their_scopes_until_revoked,
    idle_sessions_end_and_log_out_everywhere_ends_them_all,
    withdrawing_consent_closes_the_record_at_once,
    administrators_manage_users_with_a_password_policy,
    a_deployment_can_require_administrators_to_enrol_a_second_factor,
);
