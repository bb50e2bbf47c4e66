//! What each credential may do, tried as an attacker would: API tokens on pages and beyond their
//! scopes, a reused idempotency key, redirects after log-in, locking others out, replacing a
//! second factor, reading a referral after consent was withdrawn, caching, and changing one's
//! own password.

mod support;

use axum::http::StatusCode;
use hamroh_domain::access::Scope;
use hamroh_domain::org::Role;
use hamroh_store::Actor;
use hamroh_store::testing::TestDb;
use hamroh_web::AppState;
use support::{Answer, PASSWORD, World, form, request, send, send_with, session_for, world};
use uuid::Uuid;

fn user_of(w: &World, role: Role) -> Uuid {
    w.users.iter().find(|(r, _)| *r == role).unwrap().1
}

async fn token_for(db: &TestDb, user: Uuid, scopes: &[Scope]) -> (Uuid, String) {
    let token = format!("hmr_{}", Uuid::new_v4().simple());
    let id = db
        .store
        .create_api_token(&Actor::system("test"), user, "t", scopes, &hamroh_web::token_hash(&token))
        .await
        .unwrap();
    (id, token)
}

fn bearer(method: &str, uri: &str, token: &str, body: Option<(&str, &str)>) -> axum::http::Request<axum::body::Body> {
    let mut b =
        axum::http::Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {token}"));
    if let Some((content_type, _)) = body {
        b = b.header("content-type", content_type);
    }
    b.body(axum::body::Body::from(body.map_or(String::new(), |(_, b)| b.to_owned()))).unwrap()
}

fn error_code(answer: &Answer) -> String {
    answer.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
}

async fn api_tokens_never_open_pages_and_act_only_within_their_scopes(db: &TestDb) {
    let w = world(db).await;
    let (_, admin_read) = token_for(db, user_of(&w, Role::Admin), &[Scope::PersonsRead]).await;
    let users_before = db.store.users().await.unwrap().len();
    // Administration, directory upkeep and the account take a session only.
    let attempts = [
        ("POST", "/admin/users".to_owned(), "username=evil&display_name=E&organisation_id=x&role=admin&password=x"),
        ("POST", "/admin/organisations".to_owned(), "name=Evil&sector=ngo"),
        ("POST", format!("/admin/users/{}/password", w.target_user), "password=river+stone+window+7"),
        ("GET", "/admin/users".to_owned(), ""),
        ("GET", "/account".to_owned(), ""),
        ("GET", format!("/persons/{}", w.own_person), ""),
    ];
    for (method, path, body) in &attempts {
        let answer =
            send(db, bearer(method, path, &admin_read, Some(("application/x-www-form-urlencoded", body)))).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}: {}", answer.body);
        assert!(answer.body.contains("<html"), "{method} {path}: a page answers with a page");
    }
    assert_eq!(db.store.users().await.unwrap().len(), users_before, "no user was created");
    let (_, coordinator_read) = token_for(db, user_of(&w, Role::Coordinator), &[Scope::PersonsRead]).await;
    let publish = send(
        db,
        bearer("POST", "/directory/services", &coordinator_read, Some(("application/x-www-form-urlencoded", "name=X"))),
    )
    .await;
    assert_eq!(publish.status, StatusCode::FORBIDDEN);

    // API routes check the scope they need, and say so.
    let (_, export_only) = token_for(db, user_of(&w, Role::Clinician), &[Scope::Export]).await;
    let referral =
        send(db, bearer("GET", &format!("/api/v1/referrals/{}", w.referral_to_us), &export_only, None)).await;
    assert_eq!((referral.status, error_code(&referral)), (StatusCode::FORBIDDEN, "scope_required".into()));
    let person = send(db, bearer("GET", &format!("/api/v1/persons/{}", w.own_person), &export_only, None)).await;
    assert_eq!((person.status, error_code(&person)), (StatusCode::FORBIDDEN, "scope_required".into()));
    let (_, coordinator_export) = token_for(db, user_of(&w, Role::Coordinator), &[Scope::Export]).await;
    let indicators = send(db, bearer("GET", "/api/v1/indicators", &coordinator_export, None)).await;
    assert_eq!(indicators.status, StatusCode::OK, "{}", indicators.body);
    let no_export = send(db, bearer("GET", "/api/v1/indicators", &coordinator_read, None)).await;
    assert_eq!((no_export.status, error_code(&no_export)), (StatusCode::FORBIDDEN, "scope_required".into()));
}

async fn what_a_token_does_is_audited_with_its_user_and_id(db: &TestDb) {
    let w = world(db).await;
    let clinician = user_of(&w, Role::Clinician);
    let (token_id, token) = token_for(db, clinician, &[Scope::PersonsRead, Scope::PersonsWrite]).await;
    let read = send(db, bearer("GET", &format!("/api/v1/persons/{}", w.own_person), &token, None)).await;
    assert_eq!(read.status, StatusCode::OK);
    let consent = send(
        db,
        bearer(
            "POST",
            &format!("/api/v1/persons/{}/consents", w.own_person),
            &token,
            Some(("application/json", r#"{"scope":"research","given":true}"#)),
        ),
    )
    .await;
    assert_eq!(consent.status, StatusCode::CREATED, "{}", consent.body);
    let trail = db.store.audit_of_person(w.own_person, 100).await.unwrap();
    let expected = format!("user:{clinician} token:{token_id}");
    for action in ["read", "consent_given"] {
        let event = trail.iter().find(|e| e.action == action).unwrap_or_else(|| panic!("{action} audited"));
        assert_eq!(event.actor, expected, "{action}");
    }
}

async fn an_administrators_token_waits_for_the_second_factor_too(db: &TestDb) {
    let w = world(db).await;
    let state = AppState { require_admin_totp: true, ..AppState::new(db.store.clone()) };
    let (_, token) = token_for(db, user_of(&w, Role::Admin), &[Scope::PersonsRead]).await;
    let answer = send_with(state.clone(), bearer("GET", "/api/v1/persons?q=Rahimov", &token, None)).await;
    assert_eq!((answer.status, error_code(&answer)), (StatusCode::FORBIDDEN, "totp_required".into()));
    let (_, clinician) = token_for(db, user_of(&w, Role::Clinician), &[Scope::PersonsRead]).await;
    assert_eq!(
        send_with(state, bearer("GET", "/api/v1/persons?q=Rahimov", &clinician, None)).await.status,
        StatusCode::OK
    );
}

async fn a_key_sent_again_with_another_body_is_refused(db: &TestDb) {
    let w = world(db).await;
    let session = session_for(db, user_of(&w, Role::Clinician)).await;
    let consent = |body: &str| {
        let mut r = request(
            "POST",
            &format!("/api/v1/persons/{}/consents", w.own_person),
            Some(&session),
            Some(("application/json", body.to_owned())),
        );
        r.headers_mut().insert("idempotency-key", "consent-1".parse().unwrap());
        r
    };
    let first = send(db, consent(r#"{"scope":"research","given":true}"#)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = send(db, consent(r#"{"scope":"research","given":true}"#)).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = send(db, consent(r#"{"scope":"research","given":false}"#)).await;
    assert_eq!((other.status, error_code(&other)), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused".into()));
    let facts = db.store.person_facts(w.own_person).await.unwrap().unwrap();
    assert!(
        facts.consents.contains(&hamroh_domain::consent::ConsentScope::Research),
        "the withdrawal was not carried out"
    );
}

fn login_next(next: &str) -> axum::http::Request<axum::body::Body> {
    form("/login", None, &format!("username=clinician&password={}&next={next}", PASSWORD.replace(' ', "+")))
}

async fn after_log_in_a_user_stays_on_this_site(db: &TestDb) {
    world(db).await;
    for (next, to) in [
        ("%2Fpersons", "/persons"),
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%5C%2Fevil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
    ] {
        let answer = send(db, login_next(next)).await;
        assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, to), "next={next}");
    }
    let split = send(db, login_next("%2F%0D%0ASet-Cookie%3A%20x%3D1")).await;
    assert_eq!(split.status, StatusCode::BAD_REQUEST);
    assert!(!split.headers.contains_key("set-cookie"), "no session is created");
    let page = send(db, request("GET", "/login?next=%2F%0Aevil", None, None)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

fn login_via(peer: [u8; 4], forwarded: Option<&str>, password: &str) -> axum::http::Request<axum::body::Body> {
    let mut r = form("/login", None, &format!("username=clinician&password={}", password.replace(' ', "+")));
    r.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((peer, 40_000))));
    if let Some(f) = forwarded {
        r.headers_mut().insert("x-forwarded-for", f.parse().unwrap());
    }
    r
}

async fn wrong_passwords_from_one_address_lock_nobody_else_out(db: &TestDb) {
    world(db).await;
    let state = AppState::new(db.store.clone());
    let attacker = [203, 0, 113, 66];
    for _ in 0..8 {
        send_with(state.clone(), login_via(attacker, None, "wrong password!")).await;
    }
    let held = send_with(state.clone(), login_via(attacker, None, PASSWORD)).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "the failing address waits");
    let owner = send_with(state.clone(), login_via([198, 51, 100, 20], None, PASSWORD)).await;
    assert_eq!((owner.status, owner.location()), (StatusCode::SEE_OTHER, "/"), "the user's own address gets in");

    // Without a trusted proxy, a forged X-Forwarded-For changes nothing.
    let forged = send_with(state.clone(), login_via(attacker, Some("192.0.2.1"), PASSWORD)).await;
    assert_eq!(forged.status, StatusCode::TOO_MANY_REQUESTS);

    // Behind a trusted proxy, every client arrives from the proxy's address: only the forwarded
    // address tells them apart.
    let proxy = [10, 0, 0, 2];
    let state = AppState {
        proxies: hamroh_web::proxy::TrustedProxies::new(vec![hamroh_web::proxy::parse_network("10.0.0.0/8").unwrap()]),
        ..AppState::new(db.store.clone())
    };
    for _ in 0..8 {
        send_with(state.clone(), login_via(proxy, Some("203.0.113.66"), "wrong password!")).await;
    }
    let held = send_with(state.clone(), login_via(proxy, Some("203.0.113.66"), PASSWORD)).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);
    let owner = send_with(state.clone(), login_via(proxy, Some("198.51.100.20"), PASSWORD)).await;
    assert_eq!(owner.status, StatusCode::SEE_OTHER, "another client behind the same proxy gets in");
    let trail = db.store.audit_page(0, 10_000).await.unwrap();
    assert!(trail.iter().any(|e| e.address.as_deref() == Some("203.0.113.66")), "the audit trail has the client");
}

async fn a_second_factor_is_the_servers_choice_and_replacing_it_needs_the_password(db: &TestDb) {
    let w = world(db).await;
    let id = user_of(&w, Role::Clinician);
    let session = session_for(db, id).await;
    let hash = hamroh_web::token_hash(session.trim_start_matches("hamroh_session="));
    // A secret of the client's own making (all zeros) is not taken.
    let zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let code = hamroh_web::totp::current(zeros, "clinician").unwrap();
    let forged = send(db, form("/account/totp", Some(&session), &format!("secret={zeros}&code={code}"))).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!db.store.user_by_username("clinician").await.unwrap().unwrap().has_totp);
    // The account page offers a secret; a code from it enrols.
    assert_eq!(send(db, request("GET", "/account", Some(&session), None)).await.status, StatusCode::OK);
    let offered = db.store.totp_offer(&hash).await.unwrap().expect("a secret is offered");
    assert_ne!(offered, zeros);
    let code = hamroh_web::totp::current(&offered, "clinician").unwrap();
    let enrolled = send(db, form("/account/totp", Some(&session), &format!("code={code}"))).await;
    assert_eq!(enrolled.status, StatusCode::SEE_OTHER, "{}", enrolled.body);
    assert!(db.store.user_by_username("clinician").await.unwrap().unwrap().has_totp);

    // Replacing it from the session alone fails, whatever code is sent.
    send(db, request("GET", "/account", Some(&session), None)).await;
    let next = db.store.totp_offer(&hash).await.unwrap().unwrap();
    let code = hamroh_web::totp::current(&next, "clinician").unwrap();
    let replaced = send(db, form("/account/totp", Some(&session), &format!("code={code}"))).await;
    assert_eq!(replaced.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stored = db.store.user_for_login("clinician").await.unwrap().unwrap().totp_secret;
    assert_eq!(stored.as_deref(), Some(offered.as_str()), "the second factor is unchanged");

    // An administrator's reset is audited as such.
    let admin = session_for(db, user_of(&w, Role::Admin)).await;
    let reset = send(db, form(&format!("/admin/users/{id}/totp/reset"), Some(&admin), "")).await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    assert!(db.store.user_for_login("clinician").await.unwrap().unwrap().totp_secret.is_none());
    let trail = db.store.audit_page(0, 10_000).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "reset_totp" && e.entity_id.as_deref() == Some(&id.to_string())));
}

async fn replacing_a_second_factor_with_the_password_and_a_current_code(db: &TestDb) {
    let w = world(db).await;
    let id = user_of(&w, Role::Specialist);
    let old = hamroh_web::totp::new_secret();
    db.store.set_totp(&Actor::system("test"), id, Some(&old)).await.unwrap();
    let session = session_for(db, id).await;
    let hash = hamroh_web::token_hash(session.trim_start_matches("hamroh_session="));
    send(db, request("GET", "/account", Some(&session), None)).await;
    let new = db.store.totp_offer(&hash).await.unwrap().unwrap();
    let current = hamroh_web::totp::current(&old, "specialist").unwrap();
    let code = hamroh_web::totp::current(&new, "specialist").unwrap();
    let body = format!("password={}&current_code={current}&code={code}", PASSWORD.replace(' ', "+"));
    let replaced = send(db, form("/account/totp", Some(&session), &body)).await;
    assert_eq!(replaced.status, StatusCode::SEE_OTHER, "{}", replaced.body);
    let stored = db.store.user_for_login("specialist").await.unwrap().unwrap().totp_secret;
    assert_eq!(stored, Some(new));
}

async fn a_withdrawn_consent_leaves_the_receiver_only_the_end_of_the_referral(db: &TestDb) {
    let w = world(db).await;
    let receiver = session_for(db, user_of(&w, Role::Specialist)).await;
    let sender = session_for(db, w.target_user).await;
    let path = format!("/api/v1/referrals/{}", w.referral_to_us);
    let before = send(db, request("GET", &path, Some(&receiver), None)).await;
    assert_eq!(before.json()["reason"], "assessment");
    let withdraw = send(
        db,
        request(
            "POST",
            &format!("/api/v1/persons/{}/consents", w.referred_person),
            Some(&sender),
            Some(("application/json", r#"{"scope":"sector:primary_care","given":false}"#.into())),
        ),
    )
    .await;
    assert_eq!(withdraw.status, StatusCode::CREATED, "{}", withdraw.body);
    let after = send(db, request("GET", &path, Some(&receiver), None)).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!((after.json()["reason"].as_str(), after.json()["restricted"].as_bool()), (Some(""), Some(true)));
    let page = send(db, request("GET", &format!("/referrals/{}", w.referral_to_us), Some(&receiver), None)).await;
    assert!(!page.body.contains("assessment</"), "the page shows no reason either");
    let step = |body: &str| {
        request("POST", &format!("{path}/transitions"), Some(&receiver), Some(("application/json", body.to_owned())))
    };
    let accept = send(db, step(r#"{"step":"accept"}"#)).await;
    assert_eq!((accept.status, error_code(&accept)), (StatusCode::FORBIDDEN, "consent_withdrawn".into()));
    let decline = send(db, step(r#"{"step":"decline","reason":"consent withdrawn","barrier":"other"}"#)).await;
    assert_eq!(decline.status, StatusCode::OK, "{}", decline.body);
    assert_eq!(decline.json()["reason"], "", "the answer withholds it too");

    // The sender reads the referral only while the person's consent to care is in force.
    let care = send(
        db,
        request(
            "POST",
            &format!("/api/v1/persons/{}/consents", w.referred_person),
            Some(&sender),
            Some(("application/json", r#"{"scope":"care","given":false}"#.into())),
        ),
    )
    .await;
    assert_eq!(care.status, StatusCode::CREATED);
    assert_eq!(send(db, request("GET", &path, Some(&sender), None)).await.status, StatusCode::NOT_FOUND);
}

async fn person_data_is_never_cached_and_a_refusal_is_a_page_in_the_users_language(db: &TestDb) {
    let w = world(db).await;
    let clinician = user_of(&w, Role::Clinician);
    let session = session_for(db, clinician).await;
    for path in [format!("/persons/{}", w.own_person), format!("/api/v1/persons/{}", w.own_person), "/".into()] {
        let answer = send(db, request("GET", &path, Some(&session), None)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.headers["cache-control"], "no-store", "{path}");
    }
    db.store.set_user_lang(&Actor::system("test"), clinician, hamroh_domain::org::Lang::Ru).await.unwrap();
    let refused = send(db, request("GET", "/admin/users", Some(&session), None)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(refused.body.contains("У вас нет прав"), "{}", refused.body);
}

async fn users_change_their_own_password_with_the_current_one(db: &TestDb) {
    let w = world(db).await;
    let session = session_for(db, user_of(&w, Role::CaseWorker)).await;
    let change = |current: &str, new: &str| {
        form("/account/password", Some(&session), &format!("current={}&new={}", current.replace(' ', "+"), new))
    };
    assert_eq!(
        send(db, change("not my password", "river+stone+window+7")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(send(db, change(PASSWORD, "password123")).await.status, StatusCode::UNPROCESSABLE_ENTITY, "policy");
    let changed = send(db, change(PASSWORD, "river+stone+window+7")).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let old = form("/login", None, &format!("username=case_worker&password={}", PASSWORD.replace(' ', "+")));
    assert_eq!(send(db, old).await.status, StatusCode::UNAUTHORIZED);
    let new = form("/login", None, "username=case_worker&password=river+stone+window+7");
    assert_eq!(send(db, new).await.status, StatusCode::SEE_OTHER);
}

hamroh_store::on_both_backends!(
    api_tokens_never_open_pages_and_act_only_within_their_scopes,
    what_a_token_does_is_audited_with_its_user_and_id,
    an_administrators_token_waits_for_the_second_factor_too,
    a_key_sent_again_with_another_body_is_refused,
    after_log_in_a_user_stays_on_this_site,
    wrong_passwords_from_one_address_lock_nobody_else_out,
    a_second_factor_is_the_servers_choice_and_replacing_it_needs_the_password,
    replacing_a_second_factor_with_the_password_and_a_current_code,
    a_withdrawn_consent_leaves_the_receiver_only_the_end_of_the_referral,
    person_data_is_never_cached_and_a_refusal_is_a_page_in_the_users_language,
    users_change_their_own_password_with_the_current_one,
);
