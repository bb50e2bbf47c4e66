//! Indicators through the API and the dashboard's downloads: an analyst sees figures that reflect
//! a record as soon as it is stored, never a count below k, and never a person.

mod support;

use axum::http::StatusCode;
use hamroh_domain::org::Role;
use hamroh_store::on_both_backends;
use hamroh_store::testing::TestDb;
use serde_json::json;
use support::{request, send, session_for, world};

on_both_backends!(figures_are_fresh_disclosure_controlled_and_anonymous);

fn this_month() -> String {
    // Periods are months in Dushanbe (UTC+5).
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).date();
    format!("{}-{:02}", today.year(), today.month())
}

/// The year so far, as `from` and `to`.
fn year_to_date() -> (String, String) {
    let m = this_month();
    (format!("{}-01", &m[..4]), m)
}

/// This year's registrations so far: one figure, so that what the world registered in other
/// months cannot be worked out from it and this month's.
async fn registered_this_year(db: &TestDb, cookie: &str) -> serde_json::Value {
    let (from, to) = year_to_date();
    let uri = format!("/api/v1/indicators/data?indicator=registered&from={from}&to={to}&period=year&by=none");
    let answer = send(db, request("GET", &uri, Some(cookie), None)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()[0]["cells"][0][0].clone()
}

/// Registers a returnee in Khujand through the API.
async fn register(db: &TestDb, clinician: &str, n: usize) {
    let person = json!({
        "family_name": format!("Testov{n}"), "given_name": "Demo", "sex": "male", "birth_year": "1988",
        "district": "TJ-SU.khujand", "consents": ["care"], "confirm_new": true,
    });
    let made =
        send(db, request("POST", "/api/v1/persons", Some(clinician), Some(("application/json", person.to_string()))))
            .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
}

async fn figures_are_fresh_disclosure_controlled_and_anonymous(db: &TestDb) {
    let w = world(db).await;
    let role = |r: Role| w.users.iter().find(|(x, _)| *x == r).unwrap().1;
    let analyst = session_for(db, role(Role::Analyst)).await;
    let clinician = session_for(db, role(Role::Clinician)).await;

    let catalogue = send(db, request("GET", "/api/v1/indicators", Some(&analyst), None)).await.json();
    let ids: Vec<&str> = catalogue.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    for needed in [
        "registered",
        "screened",
        "depression_positive",
        "self_harm_flags",
        "disability_by_domain",
        "work_injuries",
        "referral_completion",
        "days_to_attendance",
        "barriers",
        "lost_to_follow_up",
    ] {
        assert!(ids.contains(&needed), "{needed} missing from {ids:?}");
    }
    for i in catalogue.as_array().unwrap() {
        for lang in ["tg", "ru", "en"] {
            let name = i["name"][lang].as_str().unwrap();
            assert!(!name.is_empty() && !name.starts_with("indicator-"), "{} has no {lang} name", i["id"]);
        }
    }

    // The world's few people this year are fewer than k: the figure is hidden, not shown as a number.
    let before = registered_this_year(db, &analyst).await;
    assert_eq!(before["suppressed"], true, "{before}");
    assert!(before["value"].is_null());

    for n in 0..6 {
        register(db, &clinician, n).await;
    }
    // No cache between storing and counting: the new registrations count at once.
    let after = registered_this_year(db, &analyst).await;
    let value = after["value"].as_f64().expect("published once at least k");
    assert!(value >= 6.0, "{after}");

    let (from, to) = year_to_date();
    let csv = send(
        db,
        request(
            "GET",
            &format!(
                "/dashboard.csv?from={from}&to={to}&period=year&by=district&indicator=registered&indicator=screened"
            ),
            Some(&analyst),
            None,
        ),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next().unwrap(),
        "indicator,version,period,breakdown,category,category_label,value,numerator,denominator,suppressed,k"
    );
    let mut published = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        for figure in [fields[7], fields[8]].into_iter().filter(|f| !f.is_empty()) {
            assert!(figure.parse::<i64>().unwrap() >= 5, "published below k: {line}");
            published += 1;
        }
    }
    assert!(published > 0, "{}", csv.body);
    let downloads = db.store.releases(100).await.unwrap();
    assert!(downloads.iter().any(|r| r.release.channel == "csv" && r.release.breakdown == "district"), "{downloads:?}");

    let xlsx = send(db, request("GET", &format!("/dashboard.xlsx?from={from}&to={to}"), Some(&analyst), None)).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.raw.starts_with(b"PK"), "an XLSX file is a zip archive");

    let page = send(db, request("GET", &format!("/dashboard?from={from}&to={to}&lang=ru"), Some(&analyst), None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg") && page.body.contains("data-region=\"TJ-SU\""), "a map of the regions");
    assert!(!page.body.contains("Testov"), "no name reaches the dashboard");

    // One more registration: this figure minus the last would tell of one person, so it is hidden
    // until it has moved by k from what was shown; looking again shows the same.
    register(db, &clinician, 6).await;
    for _ in 0..2 {
        let next = registered_this_year(db, &analyst).await;
        assert_eq!(next["suppressed"], true, "{value} then one more: {next}");
    }
    let log = db.store.releases(100).await.unwrap();
    let analyst_id = role(Role::Analyst);
    assert!(
        log.iter().any(|r| r.release.channel == "api"
            && r.release.user_id == Some(analyst_id)
            && r.username.is_some()
            && r.release.request.contains("registered")),
        "every release is logged with whom it went to: {log:?}"
    );

    let bad = send(db, request("GET", "/api/v1/indicators/data?indicator=nonsense", Some(&analyst), None)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["code"], "invalid_query");
    let person = send(db, request("GET", &format!("/api/v1/persons/{}", w.own_person), Some(&analyst), None)).await;
    assert_eq!(person.status, StatusCode::FORBIDDEN, "an analyst never sees a person");
}
