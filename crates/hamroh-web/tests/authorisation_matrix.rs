//! Every role × every route × every kind of person: who may do what is checked against a table
//! written here, independently of the code. A route that the router serves but this table does not
//! name fails the test, so no route can be added without a rule.

mod support;

use axum::http::{Method, StatusCode};
use hamroh_domain::org::Role;
use hamroh_store::testing::TestDb;
use support::{World, request, send, session_for, world};

/// Who the table says may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anyone,
    SignedIn,
    Admin,
    /// Care roles (clinician, specialist, case worker, coordinator, admin), no particular person.
    Care,
    /// Care roles, and then only for persons the access rules let them see.
    PersonCare,
    /// Like `PersonCare`, and the registering organisation may record consent even after a
    /// withdrawal (so that consent can be given again).
    PersonConsent,
    /// Coordinators and administrators, for persons they may see.
    PersonAudit,
    /// Care roles of the sending or receiving organisation of a referral.
    Referral,
    /// Care roles of the sending organisation of a referral (the world's referrals were all sent
    /// by other organisations, so these are hidden from every caller that may use them at all).
    ReferralSender,
    /// Coordinators, who keep the service directory.
    Coordinator,
    /// Analysts, coordinators and administrators: aggregates only.
    Evidence,
}

fn expected_rule(method: &Method, path: &str) -> Option<Who> {
    use Who::*;
    let m = method.as_str();
    Some(match (m, path) {
        ("GET", "/healthz" | "/static/{name}" | "/login" | "/login/totp") => Anyone,
        ("POST", "/login" | "/login/totp" | "/logout") => Anyone,
        ("GET", "/api/v1/instruments" | "/api/v1/instruments/{id}" | "/api/v1/instruments/{id}/fhir")
        | ("POST", "/api/v1/score") => Anyone,
        ("GET", "/" | "/account" | "/api/v1/me") => SignedIn,
        (
            "POST",
            "/account/language"
            | "/account/password"
            | "/account/totp"
            | "/account/tokens"
            | "/account/tokens/{id}/revoke"
            | "/account/logout-everywhere",
        ) => SignedIn,
        (_, p) if p.starts_with("/admin/") => Admin,
        ("GET", "/persons" | "/persons/new" | "/api/v1/persons" | "/worklist" | "/api/v1/worklist")
        | ("POST", "/persons" | "/api/v1/persons") => Care,
        ("GET", "/directory" | "/api/v1/services") => Anyone,
        (_, p) if p.starts_with("/directory/services") => Coordinator,
        ("GET", "/worklist/referrals/{id}") => Coordinator,
        // Registrations held from offline devices: the organisation's own, found by their id.
        ("GET", "/registrations/held/{id}")
        | ("POST", "/registrations/held/{id}/new" | "/registrations/held/{id}/same") => Care,
        ("GET", p) if p.starts_with("/dashboard") || p.starts_with("/api/v1/indicators") => Evidence,
        ("GET", "/api/v1/referrals/{id}") | ("POST", "/api/v1/referrals/{id}/transitions") => Referral,
        ("POST", "/api/v1/persons/{id}/referrals") => PersonCare,
        ("GET", "/referrals/{id}" | "/referrals/{id}/slip") | ("POST", "/referrals/{id}/step") => Referral,
        ("POST", "/referrals/{id}/partner-link" | "/referrals/{id}/partner-link/revoke")
        | ("POST" | "DELETE", "/api/v1/referrals/{id}/partner-link") => ReferralSender,
        // A partner link's secret is its credential: anyone holding it, nobody else.
        ("GET" | "POST", "/r/{token}") => Anyone,
        ("GET", "/persons/{id}/refer" | "/api/v1/persons/{id}/follow-ups")
        | (
            "POST",
            "/persons/{id}/referrals"
            | "/follow-ups/{id}/complete"
            | "/follow-ups/{id}"
            | "/persons/{id}/follow-ups"
            | "/api/v1/follow-ups/{id}"
            | "/api/v1/persons/{id}/follow-ups"
            | "/encounters/{id}/safety-assessment"
            | "/api/v1/encounters/{id}/safety-assessment",
        ) => PersonCare,
        ("GET" | "POST", "/persons/{id}/screen")
        | ("GET", "/encounters/{id}" | "/api/v1/encounters/{id}")
        | (
            "POST",
            "/encounters/{id}/decision" | "/api/v1/encounters/{id}/decision" | "/api/v1/persons/{id}/encounters",
        ) => PersonCare,
        ("GET", "/persons/{id}" | "/api/v1/persons/{id}") => PersonCare,
        ("GET" | "POST", "/persons/{id}/record") | ("PATCH", "/api/v1/persons/{id}") => PersonCare,
        ("GET", "/api/v1/persons/{id}/changes") => PersonCare,
        ("GET" | "POST", "/api/v1/persons/{id}/fhir") => PersonCare,
        ("POST", "/persons/{id}/consents" | "/api/v1/persons/{id}/consents") => PersonConsent,
        ("GET", "/persons/{id}/audit" | "/api/v1/persons/{id}/audit") => PersonAudit,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Situation {
    Own,
    Other,
    Referred,
    Withdrawn,
}

const SITUATIONS: [Situation; 4] = [Situation::Own, Situation::Other, Situation::Referred, Situation::Withdrawn];

fn person_of(w: &World, s: Situation) -> uuid::Uuid {
    match s {
        Situation::Own => w.own_person,
        Situation::Other => w.other_person,
        Situation::Referred => w.referred_person,
        Situation::Withdrawn => w.withdrawn_person,
    }
}

fn encounter_of(w: &World, s: Situation) -> uuid::Uuid {
    w.encounters[SITUATIONS.iter().position(|x| *x == s).unwrap()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Unauthenticated,
    Forbidden,
    Hidden,
}

const CARE: &[Role] = &[Role::Clinician, Role::Specialist, Role::CaseWorker, Role::Coordinator, Role::Admin];

fn expected(who: Who, role: Option<Role>, situation: Option<Situation>) -> Outcome {
    use Outcome::*;
    let Some(role) = role else { return if who == Who::Anyone { Allowed } else { Unauthenticated } };
    let visible = matches!(situation, Some(Situation::Own | Situation::Referred));
    match who {
        Who::Anyone | Who::SignedIn => Allowed,
        Who::Evidence => {
            if [Role::Analyst, Role::Coordinator, Role::Admin].contains(&role) {
                Allowed
            } else {
                Forbidden
            }
        }
        Who::Coordinator => {
            if role == Role::Coordinator {
                Allowed
            } else {
                Forbidden
            }
        }
        Who::Admin => {
            if role == Role::Admin {
                Allowed
            } else {
                Forbidden
            }
        }
        Who::Care => {
            if CARE.contains(&role) {
                Allowed
            } else {
                Forbidden
            }
        }
        Who::Referral => {
            if !CARE.contains(&role) {
                Forbidden
            } else if visible {
                Allowed
            } else {
                Hidden
            }
        }
        Who::ReferralSender => {
            if CARE.contains(&role) {
                Hidden
            } else {
                Forbidden
            }
        }
        Who::PersonCare | Who::PersonConsent | Who::PersonAudit => {
            let roles: &[Role] = if who == Who::PersonAudit { &[Role::Coordinator, Role::Admin] } else { CARE };
            if !roles.contains(&role) {
                Forbidden
            } else if visible || (who == Who::PersonConsent && situation == Some(Situation::Withdrawn)) {
                Allowed
            } else {
                Hidden
            }
        }
    }
}

fn classify(path: &str, status: StatusCode, location: &str) -> Outcome {
    match status {
        StatusCode::UNAUTHORIZED if path.starts_with("/api/") => Outcome::Unauthenticated,
        StatusCode::SEE_OTHER if location.starts_with("/login?next=") => Outcome::Unauthenticated,
        StatusCode::FORBIDDEN => Outcome::Forbidden,
        StatusCode::NOT_FOUND => Outcome::Hidden,
        _ => Outcome::Allowed,
    }
}

/// A plausible body for a route, so that an allowed call gets past validation where it can.
fn body_for(method: &Method, path: &str) -> Option<(&'static str, String)> {
    if method == Method::PATCH {
        return Some(("application/json", r#"{"phone":"+992 93 111 22 33"}"#.into()));
    }
    if method != Method::POST {
        return None;
    }
    Some(match path {
        "/api/v1/score" => ("application/json", r#"{"instrument":"phq2","answers":[1,1]}"#.into()),
        "/api/v1/persons/{id}/consents" => ("application/json", r#"{"scope":"research","given":true}"#.into()),
        "/api/v1/persons/{id}/encounters" => {
            ("application/json", r#"{"screenings":[{"instrument":"phq2","answers":[0,1]}]}"#.into())
        }
        "/api/v1/encounters/{id}/decision" => ("application/json", r#"{"choice":"follow"}"#.into()),
        "/api/v1/encounters/{id}/safety-assessment" => {
            ("application/json", r#"{"flag":"self_harm","not_possible":"died"}"#.into())
        }
        "/api/v1/persons/{id}/follow-ups" => (
            "application/json",
            format!(r#"{{"due_date":"{}","kind":"call"}}"#, hamroh_web::today() + jiff::Span::new().days(30)),
        ),
        "/api/v1/follow-ups/{id}" => ("application/json", r#"{"action":"complete"}"#.into()),
        "/api/v1/persons/{id}/fhir" => (
            "application/json",
            r#"{"resourceType":"QuestionnaireResponse","status":"completed","questionnaire":"urn:hamroh:questionnaire:phq2","item":[{"linkId":"1","answer":[{"valueInteger":1}]},{"linkId":"2","answer":[{"valueInteger":0}]}]}"#.into(),
        ),
        "/api/v1/persons" => ("application/json", r#"{"sex":"male"}"#.into()),
        "/api/v1/persons/{id}/referrals" => (
            "application/json",
            format!(r#"{{"service_id":"{}","reason":"assessment","urgency":"routine"}}"#, uuid::Uuid::nil()),
        ),
        "/api/v1/referrals/{id}/transitions" => ("application/json", r#"{"step":"accept"}"#.into()),
        "/api/v1/referrals/{id}/partner-link" => ("application/json", "{}".into()),
        "/persons/{id}/consents" => ("application/x-www-form-urlencoded", "scope=research&given=true".into()),
        "/login" => ("application/x-www-form-urlencoded", "username=nobody&password=wrong-password".into()),
        _ => ("application/x-www-form-urlencoded", String::new()),
    })
}

async fn every_role_every_route_every_person(db: &TestDb) {
    let w = world(db).await;
    let mut routes: Vec<(Method, String)> =
        hamroh_web::page_routes().into_iter().map(|(m, p, _)| (m, p.to_owned())).collect();
    let doc = serde_json::to_value(hamroh_web::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.push((method.to_uppercase().parse().unwrap(), path.clone()));
        }
    }
    let missing: Vec<String> =
        routes.iter().filter(|(m, p)| expected_rule(m, p).is_none()).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(missing.is_empty(), "routes without a rule in the authorisation matrix: {missing:?}");

    let callers: Vec<Option<(Role, uuid::Uuid)>> =
        std::iter::once(None).chain(w.users.iter().copied().map(Some)).collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, path) in &routes {
        let who = expected_rule(method, path).unwrap();
        let person_route = matches!(
            who,
            Who::PersonCare | Who::PersonConsent | Who::PersonAudit | Who::Referral | Who::ReferralSender
        );
        let situations: Vec<Option<Situation>> = match who {
            // A referral to us (visible), and one between other organisations (hidden).
            Who::Referral | Who::ReferralSender => vec![Some(Situation::Referred), Some(Situation::Other)],
            _ if person_route => SITUATIONS.map(Some).to_vec(),
            _ => vec![None],
        };
        for caller in &callers {
            for situation in &situations {
                let id = match (situation, path.as_str()) {
                    (Some(Situation::Referred), p) if p.contains("/referrals/{id}") => w.referral_to_us.to_string(),
                    (Some(_), p) if p.contains("/referrals/{id}") => w.referral_elsewhere.to_string(),
                    (Some(s), p) if p.starts_with("/follow-ups/") || p.starts_with("/api/v1/follow-ups/") => {
                        w.follow_ups[SITUATIONS.iter().position(|x| x == s).unwrap()].to_string()
                    }
                    (Some(s), p) if p.starts_with("/encounters/") || p.starts_with("/api/v1/encounters/") => {
                        encounter_of(&w, *s).to_string()
                    }
                    (Some(s), _) => person_of(&w, *s).to_string(),
                    (None, p) if p.starts_with("/admin/users/") => w.target_user.to_string(),
                    (None, "/api/v1/instruments/{id}" | "/api/v1/instruments/{id}/fhir") => "phq9".into(),
                    (None, "/directory/services/{id}") => w.service.to_string(),
                    _ => uuid::Uuid::now_v7().to_string(),
                };
                let uri = path.replace("{id}", &id).replace("{name}", "x.css");
                // A fresh session for every call: some routes end sessions or change roles.
                let cookie = match caller {
                    Some((_, user)) => Some(session_for(db, *user).await),
                    None => None,
                };
                let answer = send(db, request(method.as_str(), &uri, cookie.as_deref(), body_for(method, path))).await;
                let got = classify(path, answer.status, answer.location());
                let want = expected(who, caller.map(|(r, _)| r), *situation);
                checked += 1;
                // Public routes may answer 404 for a missing thing (a token id, an asset); that is
                // not an access decision.
                let ok = got == want || (want == Outcome::Allowed && got == Outcome::Hidden && !person_route);
                if !ok {
                    failures.push(format!(
                        "{:?} {method} {uri} ({situation:?}): expected {want:?}, got {got:?} ({})",
                        caller.map(|c| c.0),
                        answer.status
                    ));
                }
            }
        }
        // Admin actions may have changed the target user; put the roles back for the next route.
        db.store.set_roles(&hamroh_store::Actor::system("test"), w.target_user, &[Role::Clinician]).await.unwrap();
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
    assert!(checked > 300, "{checked}");

    // Every refusal of a person's record is in that person's audit trail.
    let denied = db.store.audit_of_person(w.other_person, 1000).await.unwrap();
    assert!(denied.iter().any(|e| e.outcome == "denied"), "refused reads are audited");
    assert_eq!(db.store.verify_audit().await.unwrap().map(|_| ()), Ok(()));
}

hamroh_store::on_both_backends!(every_role_every_route_every_person);
