//! The referral loop through the API: consent and district checks, the receiving organisation's
//! steps, the sender's view, illegal steps, paper slips for organisations not on Hamroh, and every
//! step in the person's audit trail.

mod support;

use axum::http::StatusCode;
use hamroh_domain::consent::ConsentScope;
use hamroh_domain::model::{Batch, ConsentRecord, Organisation, Person, PersonRecord, Service};
use hamroh_domain::org::{Role, Sector};
use hamroh_domain::person::{BirthYear, DistrictCode, Sex};
use hamroh_domain::service::{Cost, ServiceLanguage};
use hamroh_store::Actor;
use hamroh_store::testing::TestDb;
use serde_json::json;
use support::{request, send, session_for, user};
use uuid::Uuid;

struct Loop {
    doctor: Uuid,
    worker: Uuid,
    clinician: String,
    case_worker: String,
    person: Uuid,
    rehab: Uuid,
    paper: Uuid,
    elsewhere: Uuid,
    mental_health: Uuid,
}

fn org(name: &str, sector: Sector, uses_hamroh: bool) -> Organisation {
    Organisation {
        id: Uuid::now_v7(),
        name: name.into(),
        sector,
        district: DistrictCode::parse("TJ-KT.kulob").ok(),
        uses_hamroh,
        name_lang: hamroh_domain::org::Lang::En,
        translations: Default::default(),
    }
}

fn service(org: &Organisation, name: &str, district: &str) -> Service {
    Service {
        id: Uuid::now_v7(),
        organisation_id: org.id,
        name: name.into(),
        sector: org.sector,
        service_type: "x".into(),
        response_days: 14,
        districts: vec![DistrictCode::parse(district).unwrap()],
        languages: vec![ServiceLanguage::Tajik],
        cost: Cost::Free,
        accessible: false,
        contact: None,
        opening_hours: None,
        description: None,
        text_lang: hamroh_domain::org::Lang::En,
        translations: Default::default(),
    }
}

async fn setup(db: &TestDb) -> Loop {
    let clinic = org("Clinic", Sector::PrimaryCare, true);
    let rehab = org("Rehabilitation centre", Sector::Rehabilitation, true);
    let fund = org("Business fund", Sector::SmallBusiness, false);
    let mh = org("Mental health service", Sector::MentalHealth, true);
    let services = vec![
        service(&rehab, "Physiotherapy", "TJ-KT.kulob"),
        Service {
            contact: Some("Kulob, Somoni street 12; +992 3322 2 00 00".into()),
            opening_hours: Some("Mon-Fri 8:00-17:00".into()),
            ..service(&fund, "Grants", "TJ-KT.kulob")
        },
        service(&rehab, "Physiotherapy in Khujand", "TJ-SU.khujand"),
        service(&mh, "Assessment", "TJ-KT.kulob"),
    ];
    let hash = hamroh_web::password::hash(support::PASSWORD).unwrap();
    let doctor = user(clinic.id, "doctor", &[Role::Clinician], &hash);
    let worker = user(rehab.id, "worker", &[Role::CaseWorker], &hash);
    let person = Person {
        id: Uuid::now_v7(),
        code: "HM-LOOP-0001".into(),
        organisation_id: clinic.id,
        sex: Sex::Male,
        birth_year: BirthYear::new(1985, 2026).unwrap(),
        district: DistrictCode::parse("TJ-KT.kulob").unwrap(),
        given_name: Some("Sino".into()),
        family_name: None,
        phone: hamroh_domain::person::Phone::parse("+992 93 111 22 33").ok(),
        created_at: 0,
        created_by: None,
    };
    let consent = |scope| ConsentRecord {
        id: Uuid::now_v7(),
        person_id: person.id,
        scope,
        given: true,
        recorded_at: 0,
        recorded_by: None,
        how: None,
    };
    let consents = vec![
        consent(ConsentScope::Care),
        consent(ConsentScope::Sector(Sector::Rehabilitation)),
        consent(ConsentScope::Sector(Sector::SmallBusiness)),
    ];
    let batch = Batch {
        organisations: vec![clinic, rehab, fund, mh],
        services: services.clone(),
        users: vec![doctor.clone(), worker.clone()],
        persons: vec![PersonRecord { person: person.clone(), episodes: vec![], consents }],
        ..Batch::default()
    };
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    Loop {
        doctor: doctor.id,
        worker: worker.id,
        clinician: session_for(db, doctor.id).await,
        case_worker: session_for(db, worker.id).await,
        person: person.id,
        rehab: services[0].id,
        paper: services[1].id,
        elsewhere: services[2].id,
        mental_health: services[3].id,
    }
}

async fn post(db: &TestDb, cookie: &str, uri: &str, body: serde_json::Value) -> support::Answer {
    send(db, request("POST", uri, Some(cookie), Some(("application/json", body.to_string())))).await
}

async fn the_loop_closes_across_organisations(db: &TestDb) {
    let l = setup(db).await;
    let refer = |service: Uuid| json!({"service_id": service, "reason": "disability identified by WG-SS", "urgency": "routine"});
    let uri = format!("/api/v1/persons/{}/referrals", l.person);

    let far = post(db, &l.clinician, &uri, refer(l.elsewhere)).await;
    assert_eq!(
        (far.status, far.json()["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("referral_district_not_covered"))
    );
    let no_consent = post(db, &l.clinician, &uri, refer(l.mental_health)).await;
    assert_eq!(no_consent.json()["error"]["code"], "referral_consent_missing");

    // Referred from a WG-SS result, with a note: the receiver sees both.
    let screened = json!({"screenings": [{"instrument": "wgss", "answers": [1, 1, 3, 1, 1, 1]}]});
    let screened = post(db, &l.clinician, &format!("/api/v1/persons/{}/encounters", l.person), screened).await;
    assert_eq!(screened.status, StatusCode::CREATED, "{}", screened.body);
    let screening = db.store.screenings_of(l.person).await.unwrap().last().unwrap().id;
    let mut with_results = refer(l.rehab);
    with_results["screening_id"] = json!(screening);
    with_results["note"] = json!("walks with a stick since the fall on the site");
    let sent = post(db, &l.clinician, &uri, with_results).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let id = sent.json()["id"].as_str().unwrap().to_owned();
    let received = send(db, request("GET", &format!("/referrals/{id}"), Some(&l.case_worker), None)).await;
    assert!(received.body.contains("walks with a stick since the fall on the site"), "{}", received.body);
    assert!(received.body.contains("WG-SS"), "the results behind the referral: {}", received.body);
    assert!(
        received.body.contains("Sino") && received.body.contains("+992931112233"),
        "the consent covers the receiving sector: name and phone: {}",
        received.body
    );
    let trail = db.store.audit_of_person(l.person, 500).await.unwrap();
    assert!(trail.iter().any(|e| e.entity == "person_contact"), "the read of the contact is audited");
    let r = sent.json();
    assert_eq!(r["status"], "sent");
    let id = r["id"].as_str().unwrap().to_owned();
    let expected_due = (hamroh_web_today() + jiff::Span::new().days(14)).to_string();
    assert_eq!(r["due_date"], expected_due.as_str());

    let worklist = send(db, request("GET", "/worklist", Some(&l.case_worker), None)).await;
    assert!(worklist.body.contains(r["code"].as_str().unwrap()), "the receiver sees it in its inbox at once");
    let steps = format!("/api/v1/referrals/{id}/transitions");
    let early = post(db, &l.case_worker, &steps, json!({"step": "attend"})).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.json()["error"]["message"].as_str().unwrap().contains("allowed now: accept, decline, redirect"));
    let wrong_side = post(db, &l.clinician, &steps, json!({"step": "accept"})).await;
    assert_eq!(wrong_side.status, StatusCode::CONFLICT, "the sender cannot accept its own referral");
    assert_eq!(
        post(db, &l.case_worker, &steps, json!({"step": "decline"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a decline needs a barrier"
    );

    for step in [
        json!({"step": "accept"}),
        json!({"step": "attend"}),
        json!({"step": "close", "outcome": "physiotherapy course completed"}),
    ] {
        let answer = post(db, &l.case_worker, &steps, step.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{step}: {}", answer.body);
    }
    // The sender sees the receiver's answers on its worklist.
    let sender = send(db, request("GET", "/worklist", Some(&l.clinician), None)).await;
    let answers = sender.body.split(r#"aria-labelledby="answers""#).nth(1).unwrap_or_default();
    let answers = answers.split("</section>").next().unwrap_or_default();
    assert!(answers.contains(&format!("/referrals/{id}")), "{}", sender.body);
    let seen = send(db, request("GET", &format!("/api/v1/referrals/{id}"), Some(&l.clinician), None)).await;
    let seen = seen.json();
    let statuses: Vec<&str> =
        seen["history"].as_array().unwrap().iter().map(|h| h["to_status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["sent", "accepted", "attended", "closed"]);
    assert_eq!(seen["status"], "closed", "the sender sees the outcome");
    assert_eq!(seen["outcome"], "physiotherapy course completed");
    assert_eq!(
        post(db, &l.case_worker, &steps, json!({"step": "accept"})).await.status,
        StatusCode::CONFLICT,
        "nothing after closed"
    );

    // A second referral is declined, with the barrier recorded.
    let second = post(db, &l.clinician, &uri, refer(l.rehab)).await.json()["id"].as_str().unwrap().to_owned();
    let declined = post(
        db,
        &l.case_worker,
        &format!("/api/v1/referrals/{second}/transitions"),
        json!({"step": "decline", "reason": "no places this month", "barrier": "waiting_time"}),
    )
    .await;
    assert_eq!(declined.status, StatusCode::OK);
    assert_eq!(declined.json()["history"][1]["barrier"], "waiting_time");

    // A service not on Hamroh: the sender prints a slip and records the steps itself.
    let paper = post(db, &l.clinician, &uri, refer(l.paper)).await.json()["id"].as_str().unwrap().to_owned();
    let slip = send(db, request("GET", &format!("/referrals/{paper}/slip"), Some(&l.clinician), None)).await;
    assert_eq!(slip.status, StatusCode::OK);
    assert!(slip.body.contains("R-"), "the slip carries the referral code");
    assert!(
        slip.body.contains("Somoni street 12") && slip.body.contains("Mon-Fri 8:00-17:00"),
        "and where and when to go: {}",
        slip.body
    );
    // Printed in the person's language: the clinician's own stays as it was.
    let before = send(db, request("GET", "/account", Some(&l.clinician), None)).await.body;
    let tajik =
        send(db, request("GET", &format!("/referrals/{paper}/slip?language=tg"), Some(&l.clinician), None)).await;
    assert!(tajik.body.contains(r#"<html lang="tg">"#) && tajik.body.contains("Чӣ бо худ гиред"), "{}", tajik.body);
    assert!(tajik.body.contains("Grants (бо забони англисӣ)"), "an untranslated name says so: {}", tajik.body);
    let after = send(db, request("GET", "/account", Some(&l.clinician), None)).await.body;
    assert_eq!(before.split("<html lang=").nth(1).map(|x| &x[..4]), after.split("<html lang=").nth(1).map(|x| &x[..4]));
    for step in [json!({"step": "accept"}), json!({"step": "attend"})] {
        assert_eq!(
            post(db, &l.clinician, &format!("/api/v1/referrals/{paper}/transitions"), step).await.status,
            StatusCode::OK
        );
    }

    // Every step is in the person's audit trail.
    let trail = db.store.audit_of_person(l.person, 500).await.unwrap();
    assert!(trail.iter().filter(|e| e.action == "transition").count() >= 6);
    assert!(db.store.verify_audit().await.unwrap().is_ok());
}

struct Failing;

impl hamroh_store::Gateway for Failing {
    fn send(&self, _: &hamroh_store::OutboxMessage) -> Result<(), String> {
        Err("gateway unreachable".into())
    }
}

async fn the_receiver_and_the_sender_are_notified_at_least_once_in_their_language(db: &TestDb) {
    let l = setup(db).await;
    let actor = Actor::system("test");
    db.store.set_contact(&actor, l.worker, Some("worker@example.invalid"), None).await.unwrap();
    db.store.set_contact(&actor, l.doctor, None, Some("+992900000001")).await.unwrap();
    db.store.set_user_lang(&actor, l.worker, hamroh_domain::org::Lang::Ru).await.unwrap();
    db.store.set_user_lang(&actor, l.doctor, hamroh_domain::org::Lang::En).await.unwrap();
    let body = json!({"service_id": l.rehab, "reason": "work injury", "urgency": "urgent"});
    let sent = post(db, &l.clinician, &format!("/api/v1/persons/{}/referrals", l.person), body).await;
    let code = sent.json()["code"].as_str().unwrap().to_owned();
    let queued = db.store.outbox_messages(false).await.unwrap();
    assert_eq!(queued.len(), 1, "the receiving organisation's user with an address");
    assert_eq!((queued[0].channel.as_str(), queued[0].lang.as_str()), ("email", "ru"));
    assert!(queued[0].subject.contains(&code) && queued[0].body.contains("Physiotherapy"));
    let id = sent.json()["id"].as_str().unwrap().to_owned();
    post(db, &l.case_worker, &format!("/api/v1/referrals/{id}/transitions"), json!({"step": "accept"})).await;
    let queued = db.store.outbox_messages(false).await.unwrap();
    let sms = queued.iter().find(|m| m.channel == "sms").expect("the sender hears of the change");
    assert!(sms.body.contains("accepted") && sms.lang == "en", "{}", sms.body);

    let failed = db.store.deliver_outbox(&Failing, 10).await.unwrap();
    assert_eq!((failed.delivered, failed.failed), (0, 2));
    assert_eq!(db.store.outbox_messages(false).await.unwrap().len(), 2, "nothing lost on failure");
    assert_eq!(db.store.deliver_outbox(&Failing, 10).await.unwrap().failed, 0, "retries wait");
    db.tamper("UPDATE outbox SET next_attempt_at = 0").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("outbox.jsonl");
    let done = db.store.deliver_outbox(&hamroh_store::FileGateway(file.clone()), 10).await.unwrap();
    assert_eq!(done.delivered, 2);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 2);
    assert_eq!(
        db.store.deliver_outbox(&hamroh_store::FileGateway(file.clone()), 10).await.unwrap().delivered,
        0,
        "delivered once"
    );
    let content = std::fs::read_to_string(&file).unwrap();
    assert!(!content.contains("HM-LOOP-0001"), "no personal data in messages");
}

fn hamroh_web_today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).date()
}

/// A worklist section ("lost": the coordinator's counts; "lost-here": a clinic's own persons), as
/// (heading, rows).
async fn lost_section(db: &TestDb, session: &str, id: &str) -> (String, Vec<String>) {
    let page = send(db, request("GET", "/worklist", Some(session), None)).await;
    assert_eq!(page.status, StatusCode::OK);
    let start = page.body.find(&format!(r#"<h2 id="{id}">"#)).expect("the section is shown");
    let section = &page.body[start..start + page.body[start..].find("</section>").unwrap()];
    let heading = section[..section.find("</h2>").unwrap()].to_owned();
    let rows = section.split("<li>").skip(1).map(|r| r[..r.find("</li>").unwrap()].to_owned()).collect();
    (heading, rows)
}

/// Every person of the test world had a positive PHQ-2 in January and nothing since: all four are
/// lost, two of each clinic. The coordinator sees counts by organisation, each opening that
/// organisation's persons; a clinician sees their clinic's own, each linked. A follow-up done
/// answers one of them. Every heading says what its count counts.
async fn lost_to_follow_up_is_counted_for_the_coordinator_and_listed_for_the_clinic(db: &TestDb) {
    let w = support::world(db).await;
    let coordinator = session_for(db, w.users.iter().find(|(r, _)| *r == Role::Coordinator).unwrap().1).await;
    let (heading, rows) = lost_section(db, &coordinator, "lost").await;
    assert!(heading.ends_with("(4 persons)"), "{heading}");
    let by_org = |org: uuid::Uuid, name: &str, n: &str| {
        format!(r#"<a href="/worklist?all=lost&#38;organisation={org}#lost">{name}</a> · {n}"#)
    };
    assert_eq!(rows, [by_org(w.other, "Other clinic", "2 persons"), by_org(w.ours, "Our clinic", "2 persons")]);
    // Drilling down: the other clinic's persons by code only, ours linked to their pages.
    let drill = |org: uuid::Uuid| {
        let coordinator = coordinator.clone();
        async move {
            let uri = format!("/worklist?all=lost&organisation={org}");
            let page = send(db, request("GET", &uri, Some(&coordinator), None)).await;
            assert_eq!(page.status, StatusCode::OK);
            let start = page.body.find(r#"<h2 id="lost">"#).unwrap();
            page.body[start..start + page.body[start..].find("</section>").unwrap()].to_owned()
        }
    };
    let theirs = drill(w.other).await;
    assert!(theirs.contains("Other clinic") && theirs.contains("(2 persons)"), "{theirs}");
    assert!(theirs.contains("HM-OTH1") && !theirs.contains(&format!("/persons/{}", w.other_person)), "{theirs}");
    let ours = drill(w.ours).await;
    assert!(ours.contains(&format!(r#"<a href="/persons/{}">HM-OWN1</a>"#, w.own_person)), "{ours}");
    // The late follow-ups are listed, each naming its organisation; the heading counts them.
    let (heading, rows) = lost_section(db, &coordinator, "late-follow-ups").await;
    assert!(heading.ends_with(&format!("({} follow-ups)", rows.len())), "{heading} {rows:?}");
    assert!(rows.iter().all(|r| r.contains("Our clinic") || r.contains("Other clinic")), "{rows:?}");
    let clinician = session_for(db, w.users.iter().find(|(r, _)| *r == Role::Clinician).unwrap().1).await;
    let (heading, rows) = lost_section(db, &clinician, "lost-here").await;
    assert!(heading.ends_with("(2 persons)"), "{heading}");
    let own = format!(r#"<a href="/persons/{}">HM-OWN1</a>"#, w.own_person);
    let withdrawn = format!(r#"<a href="/persons/{}">HM-WDR1</a>"#, w.withdrawn_person);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with(&own)) && rows.iter().any(|r| r.starts_with(&withdrawn)), "{rows:?}");

    let done =
        send(db, request("POST", &format!("/follow-ups/{}/complete", w.follow_ups[0]), Some(&clinician), None)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (heading, rows) = lost_section(db, &coordinator, "lost").await;
    assert!(heading.ends_with("(3 persons)"), "{heading}");
    assert_eq!(rows, [by_org(w.other, "Other clinic", "2 persons"), by_org(w.ours, "Our clinic", "1 person")]);
    // An escalated referral of two other organisations opens as the coordinator may see it:
    // parties, dates and steps, neither reason nor names; a clinician may not open it.
    let summary = format!("/worklist/referrals/{}", w.referral_elsewhere);
    let page = send(db, request("GET", &summary, Some(&coordinator), None)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("HM-OTH1") && page.body.contains("Other clinic"), "{}", page.body);
    assert!(!page.body.contains("Раҳимов"), "no names");
    let trail = db.store.audit_of_entity("referral_summary", &w.referral_elsewhere.to_string(), 5).await.unwrap();
    assert_eq!(trail.len(), 1, "the read is audited");
    let refused = send(db, request("GET", &summary, Some(&clinician), None)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let (heading, rows) = lost_section(db, &clinician, "lost-here").await;
    assert!(
        heading.ends_with("(1 person)") && rows.len() == 1 && rows[0].starts_with(&withdrawn),
        "{heading} {rows:?}"
    );
}

/// The link's path (`/r/<secret>`) in a page or a message.
fn link_path(text: &str) -> String {
    let at = text.find("/r/").unwrap_or_else(|| panic!("no link in {text}"));
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect()
}

fn form(pairs: &str) -> Option<(&'static str, String)> {
    Some(("application/x-www-form-urlencoded", pairs.to_owned()))
}

async fn a_service_without_an_account_answers_through_its_link(db: &TestDb) {
    let l = setup(db).await;
    db.store.set_contact(&Actor::system("test"), l.doctor, None, Some("+992900000001")).await.unwrap();
    let body = json!({"service_id": l.paper, "reason": "start-up grant for a returnee with a disability", "urgency": "routine", "note": "has a business plan"});
    let uri = format!("/api/v1/persons/{}/referrals", l.person);
    let sent = post(db, &l.clinician, &uri, body.clone()).await.json();
    let (id, code) = (sent["id"].as_str().unwrap().to_owned(), sent["code"].as_str().unwrap().to_owned());

    // The sender issues a link, sent by SMS and shown once on the printable slip with its QR code.
    let issue = format!("/referrals/{id}/partner-link");
    let slip = send(db, request("POST", &issue, Some(&l.clinician), form("send_to=%2B992900000002&days=30"))).await;
    assert_eq!(slip.status, StatusCode::CREATED, "{}", slip.body);
    assert!(slip.body.contains("<svg"), "the slip carries the QR code");
    let path = link_path(&slip.body);
    assert_eq!(path.len(), "/r/".len() + 64, "{path}");
    let sms = db.store.outbox_messages(false).await.unwrap();
    let sms = sms.iter().find(|m| m.recipient == "+992900000002").expect("the link goes out by SMS");
    assert_eq!(link_path(&sms.body), path);
    assert!(!sms.body.contains("business plan"), "the message carries no clinical content");

    // The service opens it without an account, and sees what the consent covers.
    let page = send(db, request("GET", &path, None, None)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&code) && page.body.contains("has a business plan"), "{}", page.body);
    assert!(!page.body.contains("/persons/"), "no way into the record");
    let refused = send(db, request("POST", &path, None, form("step=decline&reason=x"))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a decline needs a barrier");
    let cancel = send(db, request("POST", &path, None, form("step=cancel&reason=x&barrier=cost"))).await;
    assert_eq!(cancel.status, StatusCode::CONFLICT, "the sender's steps are not the link's");
    for step in ["step=accept", "step=attend"] {
        let answer = send(db, request("POST", &path, None, form(step))).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{step}: {}", answer.body);
    }
    // The last step says it was recorded, since the link opens nothing from now on.
    let closed =
        send(db, request("POST", &format!("{path}?lang=en"), None, form("step=close&outcome=grant+approved"))).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert!(closed.body.contains("Recorded: the referral is now closed"), "{}", closed.body);
    // The sender sees every step, and hears of it.
    let seen = send(db, request("GET", &format!("/api/v1/referrals/{id}"), Some(&l.clinician), None)).await.json();
    let statuses: Vec<&str> =
        seen["history"].as_array().unwrap().iter().map(|h| h["to_status"].as_str().unwrap()).collect();
    assert_eq!(
        (statuses, seen["outcome"].as_str()),
        (vec!["sent", "accepted", "attended", "closed"], Some("grant approved"))
    );
    let told = db.store.outbox_messages(false).await.unwrap();
    assert!(told.iter().filter(|m| m.recipient == "+992900000001").count() >= 3, "the sender hears of each step");
    let page = send(db, request("GET", &format!("/referrals/{id}"), Some(&l.clinician), None)).await;
    assert!(page.body.contains("used 3 times"), "{}", page.body);
    // Finished: the link opens nothing more.
    assert_eq!(send(db, request("GET", &path, None, None)).await.status, StatusCode::GONE);
    assert_eq!(send(db, request("POST", &path, None, form("step=accept"))).await.status, StatusCode::GONE);

    // A new link revokes the earlier one; revoking ends the last.
    let second = post(db, &l.clinician, &uri, body.clone()).await.json()["id"].as_str().unwrap().to_owned();
    let issue = format!("/referrals/{second}/partner-link");
    let first = link_path(&send(db, request("POST", &issue, Some(&l.clinician), form(""))).await.body);
    let newer = link_path(&send(db, request("POST", &issue, Some(&l.clinician), form("days=7"))).await.body);
    assert_ne!(first, newer);
    let old = send(db, request("GET", &format!("{first}?lang=en"), None, None)).await;
    assert_eq!(old.status, StatusCode::GONE);
    assert!(old.body.contains("revoked"), "{}", old.body);
    assert_eq!(send(db, request("GET", &newer, None, None)).await.status, StatusCode::OK);
    let revoke =
        send(db, request("POST", &format!("/referrals/{second}/partner-link/revoke"), Some(&l.clinician), form("")))
            .await;
    assert_eq!(revoke.status, StatusCode::SEE_OTHER);
    assert_eq!(send(db, request("POST", &newer, None, form("step=accept"))).await.status, StatusCode::GONE);

    // An expired link, a link that never was, and someone else's referral.
    let third = post(db, &l.clinician, &uri, body).await.json()["id"].as_str().unwrap().to_owned();
    let expiring = link_path(
        &send(db, request("POST", &format!("/referrals/{third}/partner-link"), Some(&l.clinician), form("days=1")))
            .await
            .body,
    );
    assert_eq!(send(db, request("GET", &expiring, None, None)).await.status, StatusCode::OK);
    db.tamper("UPDATE partner_links SET expires_at = 0 WHERE revoked_at IS NULL").await;
    let expired = send(db, request("GET", &format!("{expiring}?lang=en"), None, None)).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.body.contains("expired"), "{}", expired.body);
    let mut forged = expiring.clone();
    forged.replace_range(forged.len() - 4.., "0000");
    assert_eq!(send(db, request("GET", &forged, None, None)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(db, request("GET", "/r/", None, None)).await.status, StatusCode::NOT_FOUND);
    let not_ours =
        send(db, request("POST", &format!("/referrals/{third}/partner-link"), Some(&l.case_worker), form(""))).await;
    assert_eq!(not_ours.status, StatusCode::NOT_FOUND, "only the sender issues links");
    let rehab = post(db, &l.clinician, &uri, json!({"service_id": l.rehab, "reason": "x", "urgency": "routine"})).await;
    let rehab = rehab.json()["id"].as_str().unwrap().to_owned();
    let needless =
        send(db, request("POST", &format!("/referrals/{rehab}/partner-link"), Some(&l.clinician), form(""))).await;
    assert_eq!(needless.status, StatusCode::UNPROCESSABLE_ENTITY, "a service on Hamroh answers on its worklist");

    // The same through the API.
    let fourth =
        post(db, &l.clinician, &uri, json!({"service_id": l.paper, "reason": "x", "urgency": "routine"})).await;
    let fourth = fourth.json()["id"].as_str().unwrap().to_owned();
    let api = format!("/api/v1/referrals/{fourth}/partner-link");
    let made = post(db, &l.clinician, &api, json!({"send_to": "fund@example.invalid", "days": 10, "lang": "ru"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let made = made.json();
    assert_eq!(made["sent"], 1);
    let api_link = link_path(made["url"].as_str().unwrap());
    assert_eq!(send(db, request("GET", &api_link, None, None)).await.status, StatusCode::OK);
    let mail = db.store.outbox_messages(false).await.unwrap();
    let mail = mail.iter().find(|m| m.recipient == "fund@example.invalid").expect("sent by e-mail");
    assert_eq!((mail.channel.as_str(), mail.lang.as_str()), ("email", "ru"));
    let bad = post(db, &l.clinician, &api, json!({"send_to": "not an address"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = post(db, &l.clinician, &api, json!({"days": 0})).await;
    assert_eq!(bad.json()["error"]["code"], "invalid_link_days");
    assert_eq!(send(db, request("GET", &api_link, None, None)).await.status, StatusCode::OK, "refusals change nothing");
    let other_side = post(db, &l.case_worker, &api, json!({})).await;
    assert_eq!(other_side.status, StatusCode::NOT_FOUND);
    let revoked = send(db, request("DELETE", &api, Some(&l.clinician), None)).await;
    assert_eq!((revoked.status, revoked.json()["revoked"].as_u64()), (StatusCode::OK, Some(1)));
    assert_eq!(send(db, request("GET", &api_link, None, None)).await.status, StatusCode::GONE);

    // Every use of a link is in the person's audit trail, under the link's own name.
    let trail = db.store.audit_of_person(l.person, 1000).await.unwrap();
    assert!(trail.iter().filter(|e| e.actor.starts_with("partner-link:") && e.action == "transition").count() == 3);
    assert!(trail.iter().any(|e| e.actor.starts_with("partner-link:") && e.outcome == "denied"));
    assert!(db.store.verify_audit().await.unwrap().is_ok());
}

hamroh_store::on_both_backends!(
    the_loop_closes_across_organisations,
    the_receiver_and_the_sender_are_notified_at_least_once_in_their_language,
    lost_to_follow_up_is_counted_for_the_coordinator_and_listed_for_the_clinic,
    a_service_without_an_account_answers_through_its_link,
);
