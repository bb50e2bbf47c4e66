//! The web application, called in process on both backends.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hamroh_domain::model::{Batch, User};
use hamroh_domain::org::{Lang, Role};
use hamroh_store::testing::TestDb;
use hamroh_web::{AppState, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough test password";

async fn with_user(db: &TestDb) {
    let dir = hamroh_demo::directory();
    let batch = Batch {
        organisations: dir.organisations.clone(),
        users: vec![User {
            id: uuid::Uuid::now_v7(),
            organisation_id: dir.organisations[0].id,
            username: "nodira".into(),
            display_name: "Nodira Test".into(),
            password_hash: hamroh_web::password::hash(PASSWORD).unwrap(),
            roles: vec![Role::Clinician],
            lang: Lang::Ru,
            disabled: false,
        }],
        ..Batch::default()
    };
    db.store.insert_batch(&hamroh_store::Actor::system("test"), &batch).await.unwrap();
}

async fn send(db: &TestDb, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = router(AppState::new(db.store.clone())).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn login_form(username: &str, password: &str) -> Request<Body> {
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("username={username}&password={}", password.replace(' ', "+"))))
        .unwrap()
}

async fn healthz_answers_200_while_the_database_does_and_503_after(db: &TestDb) {
    let (status, _, body) = send(db, get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    db.store.close().await;
    let (status, _, _) = send(db, get("/healthz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

async fn the_login_page_speaks_the_browsers_language_and_sends_security_headers(db: &TestDb) {
    let request = Request::get("/login").header(header::ACCEPT_LANGUAGE, "ru-RU,ru;q=0.9").body(Body::empty()).unwrap();
    let (status, headers, body) = send(db, request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<html lang=\"ru\">") && body.contains("Вход"), "{body}");
    assert!(body.contains("<label for=\"username\">") && body.contains("<label for=\"password\">"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let (_, headers, body) = send(db, get("/login?lang=tg")).await;
    assert!(body.contains("Воридшавӣ"));
    assert!(headers[header::SET_COOKIE].to_str().unwrap().starts_with("hamroh_lang=tg"));
}

async fn a_right_password_opens_a_session_and_a_wrong_one_does_not(db: &TestDb) {
    with_user(db).await;
    let (status, _, body) = send(db, login_form("nodira", "not the password")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("value=\"nodira\""), "the username typed is kept");
    let (status, _, _) = send(db, login_form("nobody", PASSWORD)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, headers, _) = send(db, login_form("nodira", PASSWORD)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let request = Request::get("/").header(header::COOKIE, &session).body(Body::empty()).unwrap();
    let (status, _, body) = send(db, request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Nodira Test"), "home shows the user in their language: {body}");
    assert!(body.contains("Здравствуйте"));

    let logout = Request::post("/logout").header(header::COOKIE, &session).body(Body::empty()).unwrap();
    assert_eq!(send(db, logout).await.0, StatusCode::SEE_OTHER);
    let request = Request::get("/").header(header::COOKIE, &session).body(Body::empty()).unwrap();
    let (status, headers, _) = send(db, request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION].to_str().unwrap().starts_with("/login"));

    let trail = db.store.verify_audit().await.unwrap().unwrap();
    // The user's creation, two failed log-ins, one log-in and one log-out, after the directory.
    assert!(trail >= 5);
}

async fn a_cross_site_form_post_is_refused(db: &TestDb) {
    with_user(db).await;
    let mut request = login_form("nodira", PASSWORD);
    request.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(db, request).await.0, StatusCode::FORBIDDEN);
}

async fn assets_are_cached_for_long_and_unknown_pages_answer_404(db: &TestDb) {
    let (_, _, page) = send(db, get("/login")).await;
    let css = page.split("href=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(css.starts_with("/static/hamroh.") && css.ends_with(".css"));
    let (status, headers, _) = send(db, get(&css)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    assert_eq!(send(db, get("/static/hamroh.0.css")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(db, get("/no/such/page")).await.0, StatusCode::NOT_FOUND);
}

async fn a_long_worklist_section_shows_its_first_rows_and_links_to_all(db: &TestDb) {
    use hamroh_domain::model::FollowUp;
    use hamroh_domain::referral::{FollowUpKind, FollowUpStatus};
    with_user(db).await;
    let dir = hamroh_demo::directory();
    let config = hamroh_demo::DemoConfig { people: 1, seed: 2, as_of: jiff::civil::date(2026, 11, 1) };
    let mut people = hamroh_demo::DemoPeople::new(config, &dir).next_chunk(1).unwrap();
    let person = people.persons[0].person.id;
    people.follow_ups = (0..60)
        .map(|n| FollowUp {
            id: uuid::Uuid::now_v7(),
            person_id: person,
            organisation_id: dir.organisations[0].id,
            referral_id: None,
            kind: FollowUpKind::Call,
            due_date: jiff::civil::date(2026, 1, 1) + jiff::Span::new().days(n),
            status: FollowUpStatus::Open,
            note: None,
            created_at: 0,
            created_by: None,
            done_at: None,
            source: "manual".into(),
            encounter_id: None,
            outcome: None,
        })
        .collect();
    people.referrals.clear();
    people.decisions.clear();
    db.store.insert_batch(&hamroh_store::Actor::system("test"), &people).await.unwrap();
    let (_, headers, _) = send(db, login_form("nodira", PASSWORD)).await;
    let session = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let worklist = |uri: &str| Request::get(uri).header(header::COOKIE, &session).body(Body::empty()).unwrap();
    let section = |body: &str| {
        let start = body.find(r#"<h2 id="follow-ups">"#).expect("the follow-ups section");
        let end = body[start..].find("</section>").unwrap() + start;
        body[start..end].to_owned()
    };
    let (status, _, body) = send(db, worklist("/worklist")).await;
    assert_eq!(status, StatusCode::OK);
    let first = section(&body);
    assert!(first.contains("(60 наблюдений)"), "the heading counts every row and says what: {first}");
    assert_eq!(first.matches("<li>").count(), 50);
    assert!(first.contains("2026-01-01") && !first.contains("2026-03-01"), "the most overdue come first");
    assert!(first.contains(r#"href="/worklist?all=follow-ups#follow-ups""#));
    let (_, _, body) = send(db, worklist("/worklist?all=follow-ups")).await;
    let whole = section(&body);
    assert_eq!(whole.matches("<li>").count(), 60);
    assert!(!whole.contains("?all=follow-ups"));

    // A section holding as many rows as the store reads may hold more: its count says so.
    let more = Batch {
        follow_ups: (60..hamroh_store::WORKLIST_ROWS as i64 + 5)
            .map(|n| FollowUp {
                id: uuid::Uuid::now_v7(),
                due_date: jiff::civil::date(2026, 1, 1) + jiff::Span::new().days(n % 300),
                ..people.follow_ups[0].clone()
            })
            .collect(),
        ..Batch::default()
    };
    db.store.insert_batch(&hamroh_store::Actor::system("test"), &more).await.unwrap();
    let (_, _, body) = send(db, worklist("/worklist")).await;
    let full = section(&body);
    assert!(full.contains("(500+ наблюдений)"), "{full}");
    assert_eq!(full.matches("<li>").count(), 50);
}

async fn the_home_page_lists_the_oldest_red_flags_counts_them_all_and_links_to_them(db: &TestDb) {
    with_user(db).await;
    let dir = hamroh_demo::directory();
    let config = hamroh_demo::DemoConfig { people: 40, seed: 5, as_of: jiff::civil::date(2026, 11, 1) };
    let mut people = hamroh_demo::DemoPeople::new(config, &dir).next_chunk(40).unwrap();
    // Every screening of the chunk raised a flag at the user's clinic and waits for its assessment.
    for s in &mut people.screenings {
        s.organisation_id = dir.organisations[0].id;
        s.outcome.flags = vec!["self_harm".into()];
    }
    people.decisions.clear();
    people.safety_assessments.clear();
    people.referrals.clear();
    people.follow_ups.clear();
    db.store.insert_batch(&hamroh_store::Actor::system("test"), &people).await.unwrap();
    let mut encounters: Vec<(i64, uuid::Uuid)> =
        people.screenings.iter().map(|s| (s.encounter_at, s.encounter_id)).collect();
    encounters.sort();
    encounters.dedup();
    assert!(encounters.len() > 10, "the demo chunk has enough encounters: {}", encounters.len());
    // One item per person, the longest waiting first, linked to the person's latest waiting encounter.
    let mut persons: Vec<uuid::Uuid> = Vec::new();
    for (_, e) in &encounters {
        let p = people.screenings.iter().find(|s| s.encounter_id == *e).unwrap().person_id;
        if !persons.contains(&p) {
            persons.push(p);
        }
    }

    let (_, headers, _) = send(db, login_form("nodira", PASSWORD)).await;
    let session = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (status, _, body) =
        send(db, Request::get("/").header(header::COOKIE, &session).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let start = body.find(r#"<section class="alert""#).expect("the red flags come first");
    let alert = &body[start..body[start..].find("</section>").unwrap() + start];
    assert!(alert.contains(&format!("({})", persons.len())), "the heading counts them all: {alert}");
    assert_eq!(alert.matches("<li>").count(), 10);
    let latest = people
        .screenings
        .iter()
        .filter(|s| s.person_id == persons[0])
        .max_by_key(|s| (s.encounter_at, s.encounter_id))
        .unwrap()
        .encounter_id;
    assert!(alert.contains(&format!("/encounters/{latest}")), "the longest waiting is listed");
    assert!(alert.contains(r#"href="/worklist?all=red-flags#red-flags""#), "and the rest one link away");
    let totals = format!("людей — {}, скринингов — {}, направлений — 0", people.persons.len(), people.screenings.len());
    assert!(body.contains(&totals), "the totals count what was stored: {body}");
}

hamroh_store::on_both_backends!(
    a_long_worklist_section_shows_its_first_rows_and_links_to_all,
    the_home_page_lists_the_oldest_red_flags_counts_them_all_and_links_to_them,
    healthz_answers_200_while_the_database_does_and_503_after,
    the_login_page_speaks_the_browsers_language_and_sends_security_headers,
    a_right_password_opens_a_session_and_a_wrong_one_does_not,
    a_cross_site_form_post_is_refused,
    assets_are_cached_for_long_and_unknown_pages_answer_404,
);
