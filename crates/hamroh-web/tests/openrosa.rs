//! The OpenRosa server, called as ODK Collect calls it: a server address holding a device key,
//! `formList`, the form's `downloadUrl`, `HEAD submission`, then a multipart `POST submission`
//! with the instance in `xml_submission_file`, `X-OpenRosa-Version: 1.0` on every request.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hamroh_domain::access::Scope;
use hamroh_domain::org::Role;
use hamroh_store::Actor;
use hamroh_store::testing::TestDb;
use hamroh_web::AppState;
use support::{Answer, World, send_with, world};
use uuid::Uuid;

fn user_of(w: &World, role: Role) -> Uuid {
    w.users.iter().find(|(r, _)| *r == role).unwrap().1
}

async fn device_key(db: &TestDb, user: Uuid, scopes: &[Scope]) -> (Uuid, String) {
    let key = format!("hmr_{}", Uuid::new_v4().simple());
    let id = db
        .store
        .create_api_token(&Actor::system("test"), user, "tablet 3", scopes, &hamroh_web::token_hash(&key))
        .await
        .unwrap();
    (id, key)
}

/// A request as ODK Collect sends it.
fn collect(method: &str, uri: &str, body: Option<Vec<u8>>) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "hamroh.test")
        .header("x-openrosa-version", "1.0")
        .header("accept-language", "en")
        .header("user-agent", "org.odk.collect.android/v2024.3.1");
    match body {
        None => b.body(Body::empty()).unwrap(),
        Some(bytes) => b
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(Body::from(bytes))
            .unwrap(),
    }
}

const BOUNDARY: &str = "----odkcollect7e1f";

fn multipart(xml: &str) -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"submission.xml\"\r\n\
         Content-Type: text/xml\r\n\r\n{xml}\r\n--{BOUNDARY}--\r\n"
    )
    .into_bytes()
}

fn phq9(instance: &str, code: &str, item9: u8, at: &str) -> String {
    format!(
        "<?xml version='1.0' ?><data id=\"phq9\" version=\"x\" xmlns:jr=\"http://openrosa.org/javarosa\">\
         <person_code_scan/><person_code_typed>{code}</person_code_typed><person_code>{code}</person_code>\
         <respondent_lang>ru</respondent_lang><interview_at>{at}</interview_at>\
         <phq9><instructions/><q1>1</q1><q2>1</q2><q3>1</q3><q4>1</q4><q5>0</q5><q6>0</q6><q7>0</q7><q8>0</q8>\
         <q9>{item9}</q9><q10>1</q10></phq9><meta><instanceID>{instance}</instanceID></meta></data>"
    )
}

fn uuid() -> String {
    format!("uuid:{}", Uuid::new_v4())
}

fn person_code(w: &World, db_codes: &[(Uuid, String)]) -> String {
    db_codes.iter().find(|(id, _)| *id == w.own_person).unwrap().1.clone()
}

async fn codes(db: &TestDb, w: &World) -> Vec<(Uuid, String)> {
    let ids = [w.own_person, w.other_person];
    let map = db.store.person_codes(ids).await.unwrap();
    ids.iter().map(|id| (*id, map[id].clone())).collect()
}

fn assert_openrosa(a: &Answer, what: &str) {
    assert_eq!(a.headers.get("x-openrosa-version").map(|v| v.to_str().unwrap()), Some("1.0"), "{what}");
}

async fn a_device_lists_downloads_and_submits_as_odk_collect_does(db: &TestDb) {
    let w = world(db).await;
    let state = AppState::new(db.store.clone());
    let (token, key) = device_key(db, user_of(&w, Role::Clinician), &[Scope::OpenRosa]).await;
    let base = format!("/openrosa/key/{key}");

    let list = send_with(state.clone(), collect("GET", &format!("{base}/formList"), None)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_openrosa(&list, "formList");
    assert!(list.body.contains("<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">"), "{}", list.body);
    for id in ["phq9", "gad7", "symptom_review", "encounter", "registration"] {
        assert!(list.body.contains(&format!("<formID>{id}</formID>")), "{id} listed");
    }
    // Each form's downloadUrl gives the XML whose MD5 the list states.
    let entry = list.body.split("<xform>").find(|e| e.contains("<formID>phq9</formID>")).unwrap();
    let field = |name: &str| {
        entry.split(&format!("<{name}>")).nth(1).unwrap().split(&format!("</{name}>")).next().unwrap().to_owned()
    };
    let url = field("downloadUrl");
    assert_eq!(url, format!("http://hamroh.test{base}/forms/phq9.xml"));
    assert!(field("name").contains("PHQ-9"), "the name in the device's language");
    let form = send_with(state.clone(), collect("GET", url.trim_start_matches("http://hamroh.test"), None)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_openrosa(&form, "form");
    use md5::Digest;
    assert_eq!(field("hash"), format!("md5:{}", hex::encode(md5::Md5::digest(&form.raw))));
    assert!(form.body.contains(&format!("version=\"{}\"", field("version"))));
    let only = send_with(state.clone(), collect("GET", &format!("{base}/formList?formID=gad7"), None)).await;
    assert_eq!(only.body.matches("<xform>").count(), 1, "formID filters the list");

    let head = send_with(state.clone(), collect("HEAD", &format!("{base}/submission"), None)).await;
    assert_eq!(head.status, StatusCode::NO_CONTENT);
    assert_openrosa(&head, "HEAD submission");
    assert!(head.headers.get("x-openrosa-accept-content-length").is_some());

    // A visit three days ago with thoughts of self-harm: stored with the interview's time, and
    // the red flag waits for a contact today.
    let code = person_code(&w, &codes(db, &w).await);
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(72);
    let xml = phq9(&uuid(), &code.to_lowercase(), 2, &at.to_string());
    let sent = send_with(state.clone(), collect("POST", &format!("{base}/submission"), Some(multipart(&xml)))).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    assert_openrosa(&sent, "submission");
    assert!(sent.body.contains("<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\">"), "{}", sent.body);
    assert!(sent.body.contains("nature=\"submit_success\""));
    assert!(sent.headers.get("x-openrosa-accept-content-length").is_some());
    let screenings = db.store.screenings_of(w.own_person).await.unwrap();
    let stored: Vec<_> = screenings.iter().filter(|s| s.instrument == "phq9").collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].encounter_at, at.as_millisecond(), "the interview's time is the screening's");
    assert_eq!(stored[0].lang, hamroh_domain::org::Lang::Ru);
    assert_eq!(stored[0].user_id, Some(user_of(&w, Role::Clinician)));
    let flags = db.store.waiting_flags_of(w.own_person).await.unwrap();
    let flag = flags.iter().find(|f| f.0 == stored[0].encounter_id).expect("the red flag waits for its assessment");
    assert!(flag.2, "a visit not seen here asks for contact today");

    // The trail says which key did it.
    let trail = db.store.audit_of_person(w.own_person, 1000).await.unwrap();
    assert!(
        trail.iter().any(|e| e.action == "create" && e.actor.contains(&format!("token:{token}"))),
        "audited with the key's user and token: {:?}",
        trail.iter().map(|e| (&e.action, &e.actor)).collect::<Vec<_>>()
    );
}

async fn a_submission_is_stored_once_however_often_it_is_sent(db: &TestDb) {
    let w = world(db).await;
    let state = AppState::new(db.store.clone());
    let (_, key) = device_key(db, user_of(&w, Role::Clinician), &[Scope::OpenRosa]).await;
    let url = format!("/openrosa/key/{key}/submission");
    let code = person_code(&w, &codes(db, &w).await);
    let before = db.store.screenings_of(w.own_person).await.unwrap().len();
    let instance = uuid();
    let xml = phq9(&instance, &code, 0, "2026-11-30T09:00:00.000+05:00");
    // Eight copies at once, as a device retrying over a bad connection might.
    let sends: Vec<_> =
        (0..8).map(|_| tokio::spawn(send_with(state.clone(), collect("POST", &url, Some(multipart(&xml)))))).collect();
    let mut statuses = Vec::new();
    for s in sends {
        statuses.push(s.await.unwrap().status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::ACCEPTED).count(), 7, "{statuses:?}");
    assert_eq!(db.store.screenings_of(w.own_person).await.unwrap().len(), before + 1, "stored once");

    let again = send_with(state.clone(), collect("POST", &url, Some(multipart(&xml)))).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    let changed = phq9(&instance, &code, 3, "2026-11-30T09:00:00.000+05:00");
    let conflict = send_with(state.clone(), collect("POST", &url, Some(multipart(&changed)))).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    assert_openrosa(&conflict, "409");
    assert_eq!(db.store.screenings_of(w.own_person).await.unwrap().len(), before + 1);
}

async fn an_invalid_instance_is_refused_with_a_message_and_nothing_is_stored(db: &TestDb) {
    let w = world(db).await;
    let state = AppState::new(db.store.clone());
    let (_, key) = device_key(db, user_of(&w, Role::Clinician), &[Scope::OpenRosa]).await;
    let url = format!("/openrosa/key/{key}/submission");
    let all = codes(db, &w).await;
    let code = person_code(&w, &all);
    let before = db.store.screenings_of(w.own_person).await.unwrap().len();
    let future = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48)).to_string();
    let other_code = all.iter().find(|(id, _)| *id == w.other_person).unwrap().1.clone();
    let cases = [
        (phq9(&uuid(), &code, 7, "2026-11-30T09:00:00Z"), "phq9"),
        (phq9(&uuid(), &code, 1, "2026-11-30T09:00:00Z").replace("<q1>1</q1>", "<q1/>"), "phq9"),
        (phq9(&uuid(), &code, 1, &future), "interview_at"),
        (phq9(&uuid(), "HM-0000-0000", 1, "2026-11-30T09:00:00Z"), "person_code"),
        // Registered by another clinic, nothing shared: answered as if unknown.
        (phq9(&uuid(), &other_code, 1, "2026-11-30T09:00:00Z"), "person_code"),
        (phq9("", &code, 1, "2026-11-30T09:00:00Z"), "instanceID"),
        ("<data id=\"phq9\"><q1>".to_owned(), "XML"),
    ];
    for (xml, named) in &cases {
        let a = send_with(state.clone(), collect("POST", &url, Some(multipart(xml)))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{named}: {}", a.body);
        assert_openrosa(&a, named);
        assert!(a.body.contains("nature=\"error\"") && a.body.contains(named), "{named}: {}", a.body);
    }
    // An item left unanswered is named as the form names it, not by its position.
    let unanswered = format!(
        "<data id=\"self_harm_questions\"><person_code>{code}</person_code><self_harm_questions>\
         <qthoughts>0</qthoughts><qact/></self_harm_questions><meta><instanceID>{}</instanceID></meta></data>",
        uuid()
    );
    let a = send_with(state.clone(), collect("POST", &url, Some(multipart(&unanswered)))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("self_harm_questions: item act:"), "{}", a.body);
    let no_part = send_with(state.clone(), collect("POST", &url, Some(b"--x--".to_vec()))).await;
    assert_eq!(no_part.status, StatusCode::BAD_REQUEST);
    assert_eq!(db.store.screenings_of(w.own_person).await.unwrap().len(), before, "nothing stored");
    assert!(db.store.screenings_of(w.other_person).await.unwrap().iter().all(|s| s.organisation_id != w.ours));
}

async fn only_a_live_device_key_of_a_care_role_gets_in(db: &TestDb) {
    let w = world(db).await;
    let state = AppState::new(db.store.clone());
    let code = person_code(&w, &codes(db, &w).await);
    let xml = phq9(&uuid(), &code, 0, "2026-11-30T09:00:00Z");
    let paths = |key: &str| {
        [
            ("GET", format!("/openrosa/key/{key}/formList"), None),
            ("GET", format!("/openrosa/key/{key}/forms/phq9.xml"), None),
            ("HEAD", format!("/openrosa/key/{key}/submission"), None),
            ("POST", format!("/openrosa/key/{key}/submission"), Some(multipart(&xml))),
        ]
    };
    let (revoked_id, revoked) = device_key(db, user_of(&w, Role::Clinician), &[Scope::OpenRosa]).await;
    db.store.revoke_api_token(&Actor::system("test"), revoked_id, None).await.unwrap();
    let (_, api_only) = device_key(db, user_of(&w, Role::Clinician), &[Scope::PersonsWrite, Scope::PersonsRead]).await;
    for key in ["hmr_not_a_key", revoked.as_str(), api_only.as_str()] {
        for (method, path, body) in paths(key) {
            let a = send_with(state.clone(), collect(method, &path, body)).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_openrosa(&a, "401");
        }
    }
    let (_, analyst) = device_key(db, user_of(&w, Role::Analyst), &[Scope::OpenRosa]).await;
    for (method, path, body) in paths(&analyst) {
        let a = send_with(state.clone(), collect(method, &path, body)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "an analyst fills no form: {method} {path}");
    }
    // The device key opens nothing else: not the API's records, not a page.
    let (_, key) = device_key(db, user_of(&w, Role::Clinician), &[Scope::OpenRosa]).await;
    let api = Request::builder()
        .uri(format!("/api/v1/persons/{}", w.own_person))
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send_with(state.clone(), api).await.status, StatusCode::FORBIDDEN);
    // Wrong keys from one address are held back.
    let mut last = StatusCode::OK;
    for _ in 0..8 {
        let mut r = collect("GET", "/openrosa/key/hmr_guess/formList", None);
        r.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([10, 0, 0, 9], 4000))));
        last = send_with(state.clone(), r).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

fn registration(instance: &str, given: &str, family: &str) -> String {
    format!(
        "<?xml version='1.0' ?><data id=\"registration\" version=\"x\"><given_name>{given}</given_name>\
         <family_name>{family}</family_name><sex>male</sex><birth_year>1990</birth_year><district>TJ-KT.kulob</district>\
         <phone/><stay><destination_country>RU</destination_country><destination_region/><year_from>2019</year_from>\
         <year_to>2025</year_to><work_sector>construction</work_sector><occupation/><legal_status/><return_date/>\
         <return_reason/><injury>no</injury><injury_cause/><injury_body_part/></stay><consent_care>yes</consent_care>\
         <consent_research>no</consent_research><consent_how>verbal</consent_how>\
         <interview_at>2026-11-30T09:00:00.000+05:00</interview_at><meta><instanceID>{instance}</instanceID></meta></data>"
    )
}

async fn an_offline_registration_that_may_be_someone_registered_waits_for_a_person(db: &TestDb) {
    let w = world(db).await;
    let state = AppState::new(db.store.clone());
    let clinician = user_of(&w, Role::Clinician);
    let (_, key) = device_key(db, clinician, &[Scope::OpenRosa]).await;
    let url = format!("/openrosa/key/{key}/submission");
    let persons = db.store.counts().await.unwrap().persons;

    let new =
        send_with(state.clone(), collect("POST", &url, Some(multipart(&registration(&uuid(), "Шаҳло", "Назарова")))))
            .await;
    assert_eq!(new.status, StatusCode::CREATED, "{}", new.body);
    assert_eq!(db.store.counts().await.unwrap().persons, persons + 1, "registered");

    // The world's own person (Фирӯз Раҳимов, 1990, Kulob) filled in again on a tablet: held.
    let instance = uuid();
    let again = registration(&instance, "Фирӯз", "Раҳимов");
    let held = send_with(state.clone(), collect("POST", &url, Some(multipart(&again)))).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    assert!(held.body.contains("coordinator"), "the device says it waits: {}", held.body);
    assert_eq!(db.store.counts().await.unwrap().persons, persons + 1, "not guessed into a new person");
    let resend = send_with(state.clone(), collect("POST", &url, Some(multipart(&again)))).await;
    assert_eq!(resend.status, StatusCode::ACCEPTED, "a held registration sent again");

    let principal = hamroh_domain::access::Principal {
        user_id: clinician,
        organisation_id: w.ours,
        sector: hamroh_domain::org::Sector::PrimaryCare,
        roles: vec![Role::Clinician],
        token: None,
    };
    let gate = db.store.gate(&principal, None);
    let waiting = gate.held_registrations().await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].submission_id, instance);
    assert!(waiting[0].candidates.contains(&w.own_person), "{:?}", waiting[0].candidates);
    // The clinic sees it on its worklist, compares, and records it as the person registered.
    let session = support::session_for(db, clinician).await;
    let list = send_with(state.clone(), support::request("GET", "/worklist", Some(&session), None)).await;
    assert!(list.body.contains("held-registrations") && list.body.contains("Фирӯз Раҳимов"), "{}", list.body);
    let link = format!("/registrations/held/{}", instance.replace(':', "%3A"));
    assert!(list.body.contains(&link), "the row opens the held form");
    let shown = send_with(state.clone(), support::request("GET", &link, Some(&session), None)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains(&format!("value=\"{}\"", w.own_person)), "the match is offered");
    let stranger = Uuid::now_v7();
    let wrong = support::form(&format!("{link}/same"), Some(&session), &format!("person_id={stranger}"));
    assert_eq!(send_with(state.clone(), wrong).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let same = support::form(&format!("{link}/same"), Some(&session), &format!("person_id={}", w.own_person));
    let decided = send_with(state.clone(), same).await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    assert_eq!(decided.location(), format!("/persons/{}", w.own_person));
    assert_eq!(db.store.counts().await.unwrap().persons, persons + 1, "nobody new");
    assert!(gate.held_registrations().await.unwrap().is_empty());
    let resend = send_with(state.clone(), collect("POST", &url, Some(multipart(&again)))).await;
    assert_eq!(resend.status, StatusCode::ACCEPTED, "decided, and still received once");

    let bad = registration(&uuid(), "Шаҳло", "Назарова").replace("<consent_care>yes", "<consent_care>no");
    let refused = send_with(state.clone(), collect("POST", &url, Some(multipart(&bad)))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("consents"), "{}", refused.body);
}

async fn a_clinician_sets_up_a_device_from_the_account_page(db: &TestDb) {
    let w = world(db).await;
    let state = AppState::new(db.store.clone());
    let session = support::session_for(db, user_of(&w, Role::Clinician)).await;
    let mut create = support::form("/account/tokens", Some(&session), "name=tablet+3&scope=openrosa");
    create.headers_mut().insert("host", "hamroh.test".parse().unwrap());
    let page = send_with(state.clone(), create).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let url =
        page.body.split("<code class=\"token\" id=\"device-url\">").nth(1).unwrap().split("</code>").next().unwrap();
    assert!(url.starts_with("http://hamroh.test/openrosa/key/hmr_"), "{url}");
    assert!(page.body.contains("<svg"), "the QR code ODK Collect scans");
    let list = send_with(
        state.clone(),
        collect("GET", &format!("{}/formList", url.trim_start_matches("http://hamroh.test")), None),
    )
    .await;
    assert_eq!(list.status, StatusCode::OK, "the address works as the device's server");
    // An analyst has no device to set up.
    let analyst = support::session_for(db, user_of(&w, Role::Analyst)).await;
    let account = send_with(state.clone(), support::request("GET", "/account", Some(&analyst), None)).await;
    assert!(!account.body.contains("id=\"devices\""));
}

async fn the_encounter_form_stores_one_encounter_of_every_instrument_chosen(db: &TestDb) {
    let w = world(db).await;
    let state = AppState::new(db.store.clone());
    let (_, key) = device_key(db, user_of(&w, Role::CaseWorker), &[Scope::OpenRosa]).await;
    let code = person_code(&w, &codes(db, &w).await);
    // GAD-7 and PHQ-2 chosen; neither asks about self-harm, so the form asked its questions.
    let xml = format!(
        "<?xml version='1.0' ?><data id=\"encounter\" version=\"x\"><person_code_scan>{code}</person_code_scan>\
         <person_code_typed/><person_code>{code}</person_code><respondent_lang>tg</respondent_lang>\
         <interview_at>2026-11-29T08:30:00.000+05:00</interview_at><instruments>gad7 phq2</instruments>\
         <gad7><instructions/><q1>3</q1><q2>3</q2><q3>2</q3><q4>2</q4><q5>1</q5><q6>1</q6><q7>1</q7></gad7>\
         <phq2><instructions/><q1>1</q1><q2>2</q2></phq2>\
         <self_harm_questions><instructions/><qthoughts>0</qthoughts><qact>0</qact></self_harm_questions>\
         <meta><instanceID>{}</instanceID></meta></data>",
        uuid()
    );
    let before = db.store.screenings_of(w.own_person).await.unwrap().len();
    let sent =
        send_with(state.clone(), collect("POST", &format!("/openrosa/key/{key}/submission"), Some(multipart(&xml))))
            .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let all = db.store.screenings_of(w.own_person).await.unwrap();
    assert_eq!(all.len(), before + 3, "GAD-7, PHQ-2 and the self-harm questions");
    let new: Vec<_> = all.iter().filter(|s| s.encounter_at == 1_795_923_000_000).collect();
    assert_eq!(new.len(), 3);
    assert!(new.iter().all(|s| s.encounter_id == new[0].encounter_id), "one encounter");
    let gad7 = new.iter().find(|s| s.instrument == "gad7").unwrap();
    assert_eq!(gad7.answers, [Some(3), Some(3), Some(2), Some(2), Some(1), Some(1), Some(1)]);
    assert_eq!(gad7.outcome.total, Some(13));
}

fn behind_tls(mut r: Request<Body>, credentials: Option<(&str, &str)>) -> Request<Body> {
    let proxy = std::net::SocketAddr::from(([127, 0, 0, 1], 41000));
    r.extensions_mut().insert(axum::extract::ConnectInfo(proxy));
    r.headers_mut().insert("x-forwarded-proto", "https".parse().unwrap());
    r.headers_mut().insert("x-forwarded-for", "10.1.2.3".parse().unwrap());
    if let Some((user, pass)) = credentials {
        let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{user}:{pass}"));
        r.headers_mut().insert("authorization", format!("Basic {basic}").parse().unwrap());
    }
    r
}

async fn a_username_and_password_are_taken_over_tls_only(db: &TestDb) {
    let w = world(db).await;
    let mut state = AppState::new(db.store.clone());
    state.proxies = hamroh_web::proxy::TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]);
    // Over plain HTTP, not even asked for: a password would cross the network in the clear.
    let plain = send_with(state.clone(), collect("GET", "/openrosa/formList", None)).await;
    assert_eq!(plain.status, StatusCode::UNAUTHORIZED);
    assert!(plain.headers.get("www-authenticate").is_none());
    assert!(plain.body.contains("HTTPS"), "{}", plain.body);
    let mut forged = collect("GET", "/openrosa/formList", None);
    forged.headers_mut().insert("x-forwarded-proto", "https".parse().unwrap());
    forged.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([10, 9, 9, 9], 5000))));
    let forged = send_with(state.clone(), behind_tls_credentials(forged)).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "a client's own claim of TLS counts for nothing");
    assert!(forged.headers.get("www-authenticate").is_none());

    let asked = send_with(state.clone(), behind_tls(collect("GET", "/openrosa/formList", None), None)).await;
    assert_eq!(asked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(asked.headers["www-authenticate"], "Basic realm=\"Hamroh\", charset=\"UTF-8\"");
    assert_openrosa(&asked, "challenge");
    let wrong = behind_tls(collect("GET", "/openrosa/formList", None), Some(("clinician", "not the password")));
    assert_eq!(send_with(state.clone(), wrong).await.status, StatusCode::UNAUTHORIZED);
    let right = behind_tls(collect("GET", "/openrosa/formList", None), Some(("clinician", support::PASSWORD)));
    let list = send_with(state.clone(), right).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(
        list.body.contains("<downloadUrl>https://hamroh.test/openrosa/forms/phq9.xml</downloadUrl>"),
        "{}",
        list.body
    );
    let form = behind_tls(collect("GET", "/openrosa/forms/phq9.xml", None), Some(("clinician", support::PASSWORD)));
    let form = send_with(state.clone(), form).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("<data id=\"phq9\""));

    let code = person_code(&w, &codes(db, &w).await);
    let xml = phq9(&uuid(), &code, 0, "2026-11-30T09:00:00Z");
    let post = behind_tls(
        collect("POST", "/openrosa/submission", Some(multipart(&xml))),
        Some(("clinician", support::PASSWORD)),
    );
    let sent = send_with(state.clone(), post).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let analyst = behind_tls(collect("GET", "/openrosa/formList", None), Some(("analyst", support::PASSWORD)));
    assert_eq!(send_with(state.clone(), analyst).await.status, StatusCode::FORBIDDEN);
}

fn behind_tls_credentials(mut r: Request<Body>) -> Request<Body> {
    let basic =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("clinician:{}", support::PASSWORD));
    r.headers_mut().insert("authorization", format!("Basic {basic}").parse().unwrap());
    r
}

hamroh_store::on_both_backends!(
    the_encounter_form_stores_one_encounter_of_every_instrument_chosen,
    a_username_and_password_are_taken_over_tls_only,
    a_clinician_sets_up_a_device_from_the_account_page,
    a_device_lists_downloads_and_submits_as_odk_collect_does,
    a_submission_is_stored_once_however_often_it_is_sent,
    an_invalid_instance_is_refused_with_a_message_and_nothing_is_stored,
    only_a_live_device_key_of_a_care_role_gets_in,
    an_offline_registration_that_may_be_someone_registered_waits_for_a_person,
);
