//! Helpers shared by the web tests: a small world of organisations, users and persons, and
//! requests sent to the router in process.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use hamroh_domain::consent::ConsentScope;
use hamroh_domain::model::{
    Batch, ConsentRecord, Organisation, Person, PersonRecord, Referral, ReferralEvent, Service, User,
};
use hamroh_domain::org::{Lang, Role, Sector};
use hamroh_domain::person::{BirthYear, DistrictCode, Sex};
use hamroh_domain::referral::{ReferralStatus, Urgency};
use hamroh_domain::service::{Cost, ServiceLanguage};
use hamroh_store::testing::TestDb;
use hamroh_store::{Actor, SessionLimits};
use hamroh_web::{AppState, router};
use http_body_util::BodyExt;
use tower::ServiceExt;
use uuid::Uuid;

pub const PASSWORD: &str = "a long enough test password";

pub struct World {
    /// Our organisation (primary care): every test user works here.
    pub ours: Uuid,
    /// Another clinic, which registers the persons that are not ours.
    pub other: Uuid,
    pub users: Vec<(Role, Uuid)>,
    /// A user of no interest to the callers, for admin actions to act on.
    pub target_user: Uuid,
    /// Registered by us, consent to care in force.
    pub own_person: Uuid,
    /// Registered by the other clinic, nothing shared with us.
    pub other_person: Uuid,
    /// Registered by the other clinic, referred to us, consent to share with our sector.
    pub referred_person: Uuid,
    /// Registered by us, consent to care withdrawn.
    pub withdrawn_person: Uuid,
    /// One encounter (a PHQ-2) for each of the four persons, in the same order.
    pub encounters: [Uuid; 4],
    /// One open follow-up for each of the four persons, in the same order.
    pub follow_ups: [Uuid; 4],
    /// The referral of the referred person to our service.
    pub referral_to_us: Uuid,
    /// A referral between two services of the other clinic, nothing to do with us.
    pub referral_elsewhere: Uuid,
    /// A service of our organisation.
    pub service: Uuid,
}

fn org(name: &str, sector: Sector) -> Organisation {
    Organisation {
        id: Uuid::now_v7(),
        name: name.into(),
        sector,
        district: DistrictCode::parse("TJ-KT.kulob").ok(),
        uses_hamroh: true,
        name_lang: hamroh_domain::org::Lang::En,
        translations: Default::default(),
    }
}

fn person(org: Uuid, code: &str) -> Person {
    Person {
        id: Uuid::now_v7(),
        code: code.into(),
        organisation_id: org,
        sex: Sex::Male,
        birth_year: BirthYear::new(1990, 2026).unwrap(),
        district: DistrictCode::parse("TJ-KT.kulob").unwrap(),
        given_name: Some("Фирӯз".into()),
        family_name: Some("Раҳимов".into()),
        phone: Some(hamroh_domain::person::Phone::parse("+992 93 123 45 67").unwrap()),
        created_at: 1_767_225_600_000,
        created_by: None,
    }
}

fn consent(person: Uuid, scope: ConsentScope, given: bool, at: i64) -> ConsentRecord {
    ConsentRecord { id: Uuid::now_v7(), person_id: person, scope, given, recorded_at: at, recorded_by: None, how: None }
}

pub fn user(org: Uuid, username: &str, roles: &[Role], hash: &str) -> User {
    User {
        id: Uuid::now_v7(),
        organisation_id: org,
        username: username.into(),
        display_name: format!("{username} (test)"),
        password_hash: hash.into(),
        roles: roles.to_vec(),
        lang: Lang::En,
        disabled: false,
    }
}

pub async fn world(db: &TestDb) -> World {
    let ours = org("Our clinic", Sector::PrimaryCare);
    let other = org("Other clinic", Sector::PrimaryCare);
    let service = Service {
        id: Uuid::now_v7(),
        organisation_id: ours.id,
        name: "Assessment".into(),
        sector: Sector::PrimaryCare,
        service_type: "assessment".into(),
        response_days: 7,
        districts: vec![DistrictCode::parse("TJ-KT.kulob").unwrap()],
        languages: vec![ServiceLanguage::Tajik],
        cost: Cost::Free,
        accessible: false,
        contact: None,
        opening_hours: None,
        description: None,
        text_lang: hamroh_domain::org::Lang::En,
        translations: Default::default(),
    };
    let service_id = service.id;
    let their_service =
        Service { id: Uuid::now_v7(), organisation_id: other.id, name: "Their assessment".into(), ..service.clone() };
    let hash = hamroh_web::password::hash(PASSWORD).unwrap();
    let users: Vec<User> = Role::ALL.iter().map(|r| user(ours.id, r.as_str(), &[*r], &hash)).collect();
    let target = user(other.id, "target", &[Role::Clinician], &hash);
    let (own, oth, referred, withdrawn) = (
        person(ours.id, "HM-OWN1"),
        person(other.id, "HM-OTH1"),
        person(other.id, "HM-REF1"),
        person(ours.id, "HM-WDR1"),
    );
    let at = 1_767_225_600_000;
    let persons = vec![
        PersonRecord {
            person: own.clone(),
            episodes: vec![],
            consents: vec![consent(own.id, ConsentScope::Care, true, at)],
        },
        PersonRecord {
            person: oth.clone(),
            episodes: vec![],
            consents: vec![consent(oth.id, ConsentScope::Care, true, at)],
        },
        PersonRecord {
            person: referred.clone(),
            episodes: vec![],
            consents: vec![
                consent(referred.id, ConsentScope::Care, true, at),
                consent(referred.id, ConsentScope::Sector(Sector::PrimaryCare), true, at),
            ],
        },
        PersonRecord {
            person: withdrawn.clone(),
            episodes: vec![],
            consents: vec![
                consent(withdrawn.id, ConsentScope::Care, true, at),
                consent(withdrawn.id, ConsentScope::Care, false, at + 1),
            ],
        },
    ];
    let referral = Referral {
        id: Uuid::now_v7(),
        code: "R-TEST-0001".into(),
        person_id: referred.id,
        from_organisation_id: other.id,
        from_user_id: None,
        service_id: service.id,
        to_organisation_id: ours.id,
        screening_id: None,
        reason: "assessment".into(),
        urgency: Urgency::Routine,
        due_date: jiff::civil::date(2026, 12, 1),
        status: ReferralStatus::Sent,
        note: None,
        created_at: at,
        events: vec![ReferralEvent {
            from_status: None,
            to_status: ReferralStatus::Sent,
            at,
            by_user_id: None,
            reason: None,
            barrier: None,
            note: None,
        }],
    };
    let encounters = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let phq2 = hamroh_domain::instrument::catalog().get("phq2").unwrap();
    let screenings = [(&own, ours.id), (&oth, other.id), (&referred, other.id), (&withdrawn, ours.id)]
        .iter()
        .zip(encounters)
        .map(|((p, org), encounter_id)| hamroh_domain::model::Screening {
            id: Uuid::now_v7(),
            encounter_id,
            person_id: p.id,
            organisation_id: *org,
            user_id: None,
            encounter_at: at,
            instrument: "phq2".into(),
            instrument_version: phq2.version.clone(),
            lang: Lang::Tg,
            answers: vec![Some(3), Some(3)],
            outcome: phq2.score(&[Some(3), Some(3)], &Default::default()).unwrap().into_outcome(),
        })
        .collect();
    let follow_up_ids = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let follow_ups = [(&own, ours.id), (&oth, other.id), (&referred, other.id), (&withdrawn, ours.id)]
        .iter()
        .zip(follow_up_ids)
        .map(|((p, org), id)| hamroh_domain::model::FollowUp {
            id,
            person_id: p.id,
            organisation_id: *org,
            referral_id: None,
            kind: hamroh_domain::referral::FollowUpKind::Call,
            due_date: jiff::civil::date(2026, 12, 1),
            status: hamroh_domain::referral::FollowUpStatus::Open,
            note: None,
            created_at: at,
            created_by: None,
            done_at: None,
            source: "manual".into(),
            encounter_id: None,
            outcome: None,
        })
        .collect();
    let elsewhere = Referral {
        id: Uuid::now_v7(),
        code: "R-TEST-0002".into(),
        person_id: oth.id,
        service_id: their_service.id,
        to_organisation_id: other.id,
        ..referral.clone()
    };
    let batch = Batch {
        follow_ups,
        screenings,
        organisations: vec![ours.clone(), other.clone()],
        services: vec![service, their_service],
        users: users.iter().cloned().chain([target.clone()]).collect(),
        persons,
        referrals: vec![referral.clone(), elsewhere.clone()],
        ..Batch::default()
    };
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    World {
        ours: ours.id,
        other: other.id,
        users: users.iter().map(|u| (u.roles[0], u.id)).collect(),
        target_user: target.id,
        own_person: own.id,
        other_person: oth.id,
        referred_person: referred.id,
        withdrawn_person: withdrawn.id,
        encounters,
        follow_ups: follow_up_ids,
        referral_to_us: referral.id,
        referral_elsewhere: elsewhere.id,
        service: service_id,
    }
}

/// A fresh session for a user, without going through the log-in page: `Cookie` header value.
pub async fn session_for(db: &TestDb, user: Uuid) -> String {
    let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    db.store
        .create_session(&Actor::system("test"), user, &hamroh_web::token_hash(&token), SessionLimits::default(), false)
        .await
        .unwrap();
    format!("hamroh_session={token}")
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body as sent (compressed, if it was).
    pub raw: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn cookie(&self) -> String {
        self.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned()
    }
}

pub async fn send_with(state: AppState, request: Request<Body>) -> Answer {
    let response = router(state).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned(), raw: body.to_vec() }
}

pub async fn send(db: &TestDb, request: Request<Body>) -> Answer {
    send_with(AppState::new(db.store.clone()), request).await
}

pub fn request(method: &str, uri: &str, cookie: Option<&str>, body: Option<(&str, String)>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        builder = builder.header(header::COOKIE, c);
    }
    match body {
        Some((content_type, body)) => {
            builder.header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap()
        }
        None => builder.body(Body::empty()).unwrap(),
    }
}

pub fn form(uri: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    request("POST", uri, cookie, Some(("application/x-www-form-urlencoded", body.to_owned())))
}
