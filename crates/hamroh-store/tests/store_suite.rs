//! The store suite: every test runs on SQLite, and on PostgreSQL when `HAMROH_TEST_POSTGRES` is set
//! (the README's test command always sets it).

use std::collections::BTreeMap;

use hamroh_demo::{DemoConfig, DemoPeople, directory};
use hamroh_domain::model::Batch;
use hamroh_store::testing::TestDb;
use hamroh_store::{Actor, NewAuditEvent, Store};

const AS_OF: jiff::civil::Date = jiff::civil::date(2026, 11, 1);

/// The demo directory plus `people` persons with everything about them, as one batch.
fn demo_batch(people: u64, seed: u64) -> Batch {
    let dir = directory();
    let mut batch = dir.batch("$argon2id$not-a-real-hash");
    let mut gen_people = DemoPeople::new(DemoConfig { people, seed, as_of: AS_OF }, &dir);
    while let Some(chunk) = gen_people.next_chunk(100) {
        batch.persons.extend(chunk.persons);
        batch.screenings.extend(chunk.screenings);
        batch.referrals.extend(chunk.referrals);
        batch.follow_ups.extend(chunk.follow_ups);
        batch.decisions.extend(chunk.decisions);
        batch.safety_assessments.extend(chunk.safety_assessments);
    }
    batch
}

fn events_for(batch: &Batch) -> i64 {
    let per_person: usize = batch.persons.iter().map(|p| 1 + p.episodes.len() + p.consents.len()).sum();
    (batch.organisations.len()
        + batch.services.len()
        + batch.users.len()
        + per_person
        + batch.screenings.len()
        + batch.referrals.len()
        + batch.follow_ups.len()
        + batch.decisions.len()
        + batch.safety_assessments.len()) as i64
}

async fn a_new_database_is_empty_and_migrating_again_changes_nothing(db: &TestDb) {
    db.store.migrate().await.unwrap();
    let again = Store::open(&db.url).await.unwrap();
    let counts = again.counts().await.unwrap();
    assert_eq!((counts.persons, counts.audit_events), (0, 0));
    assert_eq!(again.verify_audit().await.unwrap(), Ok(0));
    again.ping().await.unwrap();
}

async fn records_read_back_as_they_were_written(db: &TestDb) {
    let batch = demo_batch(40, 11);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let counts = db.store.counts().await.unwrap();
    assert_eq!(counts.persons, 40);
    assert_eq!(counts.screenings, batch.screenings.len() as i64);
    assert_eq!(counts.referrals, batch.referrals.len() as i64);
    assert_eq!(counts.follow_ups, batch.follow_ups.len() as i64);
    let totals = db.store.totals().await.unwrap();
    assert_eq!(
        (totals.persons, totals.screenings, totals.referrals),
        (counts.persons, counts.screenings, counts.referrals),
        "the cube's totals count the records"
    );
    for rec in &batch.persons {
        let stored = db.store.person(rec.person.id).await.unwrap().expect("person stored");
        assert_eq!(stored, rec.person);
        let mut expected: Vec<_> = batch.screenings.iter().filter(|s| s.person_id == rec.person.id).cloned().collect();
        expected.sort_by_key(|s| (s.encounter_at, s.id));
        assert_eq!(db.store.screenings_of(rec.person.id).await.unwrap(), expected);
    }
    for r in &batch.referrals {
        let history = db.store.referral_history(r.id).await.unwrap();
        let expected: Vec<_> = r
            .events
            .iter()
            .map(|e| (e.from_status.map(|s| s.as_str().to_owned()), e.to_status.as_str().to_owned()))
            .collect();
        assert_eq!(history, expected);
    }
    assert!(db.store.person(uuid::Uuid::now_v7()).await.unwrap().is_none());
}

async fn every_write_is_audited_in_an_unbroken_chain(db: &TestDb) {
    let batch = demo_batch(25, 3);
    db.store.insert_batch(&Actor::system("demo"), &batch).await.unwrap();
    let expected = events_for(&batch);
    assert_eq!(db.store.audit_len().await.unwrap(), expected);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(expected as u64));
    let person = batch.persons[0].person.id;
    let trail = db.store.audit_of_person(person, 100).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "create" && e.entity == "person"));
    assert!(trail.iter().all(|e| e.actor == "system:demo"));
}

async fn a_failed_batch_leaves_nothing_behind(db: &TestDb) {
    let batch = demo_batch(5, 5);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let before = db.store.counts().await.unwrap();
    // A new person, followed by a person whose id is already taken: the whole batch must fail.
    let mut again = demo_batch(6, 6);
    again.organisations.clear();
    again.services.clear();
    again.users.clear();
    again.screenings.clear();
    again.referrals.clear();
    again.follow_ups.clear();
    for p in &mut again.persons {
        p.person.organisation_id = batch.organisations[0].id;
    }
    again.persons.push(batch.persons[0].clone());
    assert!(db.store.insert_batch(&Actor::system("test"), &again).await.is_err());
    assert_eq!(db.store.counts().await.unwrap(), before);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(before.audit_events as u64));
}

async fn audit_verify_finds_altered_removed_and_reordered_events(db: &TestDb) {
    let batch = demo_batch(3, 9);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let n = db.store.audit_len().await.unwrap();
    assert!(n > 10);
    assert!(db.store.verify_audit().await.unwrap().is_ok());

    // Altered: a changed outcome.
    assert_eq!(db.tamper("UPDATE audit_events SET outcome = 'denied' WHERE seq = 5").await, 1);
    let problem = db.store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(problem.seq, 5);
    assert!(problem.reason.contains("altered"), "{problem}");
    db.tamper("UPDATE audit_events SET outcome = 'ok' WHERE seq = 5").await;
    assert!(db.store.verify_audit().await.unwrap().is_ok());

    // Reordered: two events swap their content but keep their numbers.
    db.tamper(
        "UPDATE audit_events SET entity_id = CASE seq WHEN 7 THEN (SELECT entity_id FROM audit_events WHERE seq = 8) \
         ELSE (SELECT entity_id FROM audit_events WHERE seq = 7) END, \
         hash = CASE seq WHEN 7 THEN (SELECT hash FROM audit_events WHERE seq = 8) \
         ELSE (SELECT hash FROM audit_events WHERE seq = 7) END, \
         prev_hash = CASE seq WHEN 7 THEN (SELECT prev_hash FROM audit_events WHERE seq = 8) \
         ELSE (SELECT prev_hash FROM audit_events WHERE seq = 7) END WHERE seq IN (7, 8)",
    )
    .await;
    assert_eq!(db.store.verify_audit().await.unwrap().unwrap_err().seq, 7);
}

async fn audit_verify_finds_a_removed_event_in_the_middle_and_at_the_end(db: &TestDb) {
    let batch = demo_batch(3, 10);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let n = db.store.audit_len().await.unwrap();
    assert_eq!(db.tamper(&format!("DELETE FROM audit_events WHERE seq = {n}")).await, 1);
    let problem = db.store.verify_audit().await.unwrap().unwrap_err();
    assert!(problem.reason.contains("removed"), "{problem}");
    db.tamper("DELETE FROM audit_events WHERE seq = 4").await;
    let problem = db.store.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(problem.seq, 5);
}

async fn concurrent_writers_each_get_their_place_in_the_chain(db: &TestDb) {
    let batch = demo_batch(1, 12);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let before = db.store.audit_len().await.unwrap();
    let person = batch.persons[0].person.id;
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..10 {
                let mut event = NewAuditEvent::ok("read", "person", person).person(person);
                event.detail = Some(format!("writer {writer} read {n}"));
                store.audit(&Actor::system("test"), &[event]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(db.store.audit_len().await.unwrap(), before + 80);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok((before + 80) as u64));
}

async fn acknowledged_writes_are_durable(db: &TestDb) {
    let d = db.store.durability().await.unwrap();
    match d.backend {
        "sqlite" => assert_eq!(d.detail, "journal_mode=wal synchronous=full"),
        _ => assert!(d.detail.starts_with("fsync=on"), "{}", d.detail),
    }
}

async fn concurrent_record_writes_share_commits_and_one_bad_batch_fails_alone(db: &TestDb) {
    let full = demo_batch(60, 21);
    let directory = Batch {
        organisations: full.organisations.clone(),
        services: full.services.clone(),
        users: full.users.clone(),
        persons: full.persons.clone(),
        ..Batch::default()
    };
    db.store.insert_batch(&Actor::system("test"), &directory).await.unwrap();
    let before = db.store.counts().await.unwrap();
    // 64 writers at once, each storing its screenings one batch at a time; one of them sends a
    // screening whose id is already stored, which must fail that write alone.
    let screenings = full.screenings.clone();
    let duplicate = screenings[0].clone();
    db.store
        .insert_batch(&Actor::system("test"), &Batch { screenings: vec![duplicate.clone()], ..Batch::default() })
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for writer in 0..64usize {
        let store = db.store.clone();
        let mine: Vec<_> = screenings.iter().skip(1).skip(writer).step_by(64).cloned().collect();
        let duplicate = duplicate.clone();
        tasks.push(tokio::spawn(async move {
            let actor = Actor::system("test");
            let mut failed = 0;
            for s in mine {
                store.insert_batch(&actor, &Batch { screenings: vec![s], ..Batch::default() }).await.unwrap();
            }
            if writer == 7 {
                let again = Batch { screenings: vec![duplicate], ..Batch::default() };
                failed += usize::from(store.insert_batch(&actor, &again).await.is_err());
            }
            failed
        }));
    }
    let mut failed = 0;
    for t in tasks {
        failed += t.await.unwrap();
    }
    assert_eq!(failed, 1, "only the batch that repeats a stored id fails");
    let after = db.store.counts().await.unwrap();
    assert_eq!(after.screenings - before.screenings, screenings.len() as i64);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(after.audit_events as u64));
}

async fn the_facts_of_many_persons_at_once_are_the_facts_of_each(db: &TestDb) {
    let full = demo_batch(80, 5);
    db.store.insert_batch(&Actor::system("test"), &full).await.unwrap();
    let ids: Vec<uuid::Uuid> = full.persons.iter().map(|p| p.person.id).chain([uuid::Uuid::now_v7()]).collect();
    let many = db.store.person_facts_many(&ids).await.unwrap();
    assert_eq!(many.len(), full.persons.len(), "an unknown id has no facts");
    assert!(many.values().any(|f| !f.open_referrals.is_empty()) && many.values().any(|f| f.consents.len() > 1));
    for id in &ids {
        assert_eq!(many.get(id), db.store.person_facts(*id).await.unwrap().as_ref(), "{id}");
    }
    // The facts read for one viewer decide that viewer's access exactly as the full facts do, for
    // the registering organisation and for every organisation a referral went to.
    use hamroh_domain::access::{Principal, person_access};
    let registered: Vec<(uuid::Uuid, uuid::Uuid)> = many.iter().map(|(id, f)| (*id, f.registered_by)).collect();
    let viewers: std::collections::BTreeSet<(uuid::Uuid, hamroh_domain::org::Sector)> =
        many.values().flat_map(|f| f.open_referrals.iter().copied()).collect();
    let registering = registered[0].1;
    let mut granted = Vec::new();
    for (org, sector) in viewers.into_iter().chain([(registering, hamroh_domain::org::Sector::PrimaryCare)]) {
        let principal = Principal {
            user_id: uuid::Uuid::now_v7(),
            organisation_id: org,
            sector,
            roles: vec![hamroh_domain::org::Role::Clinician, hamroh_domain::org::Role::CaseWorker],
            token: None,
        };
        let seen = db.store.facts_deciding_for(org, &registered).await.unwrap();
        granted.extend(seen.values().map(|f| person_access(&principal, f, false)));
        assert_eq!(seen.len(), many.len());
        for (id, facts) in &many {
            for write in [false, true] {
                assert_eq!(
                    person_access(&principal, &seen[id], write),
                    person_access(&principal, facts, write),
                    "{id}"
                );
            }
        }
    }
    use hamroh_domain::access::Access;
    assert!(granted.contains(&Access::Registering) && granted.contains(&Access::Referral), "{granted:?}");
}

async fn a_persons_care_consent_on_its_row_follows_the_ledger(db: &TestDb) {
    use hamroh_domain::consent::ConsentScope;
    use hamroh_domain::model::ConsentRecord;
    use hamroh_domain::names::Query;
    let batch = demo_batch(60, 11);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let org = batch.persons[0].person.organisation_id;
    let mine: Vec<_> = batch.persons.iter().map(|r| &r.person).filter(|p| p.organisation_id == org).collect();
    // The flag the search reads from the row, and what the ledger says.
    let both = |p: &hamroh_domain::model::Person| {
        let (id, code) = (p.id, p.code.clone());
        async move {
            let found = db.store.search_candidates(org, &Query::Code(code), 5).await.unwrap();
            let facts = db.store.person_facts(id).await.unwrap().unwrap();
            (found[0].care_consent, facts.consents.contains(&ConsentScope::Care))
        }
    };
    let mut seen = Vec::new();
    for p in &mine {
        let (row, ledger) = both(p).await;
        assert_eq!(row, ledger, "{}", p.code);
        seen.push(row);
    }
    assert!(seen.contains(&true), "the demo gives consent to care");
    let person = mine.iter().find(|p| seen[mine.iter().position(|q| q.id == p.id).unwrap()]).unwrap();
    let now = hamroh_store::now_millis();
    let decide = |given: bool, recorded_at: i64| ConsentRecord {
        id: uuid::Uuid::now_v7(),
        person_id: person.id,
        scope: ConsentScope::Care,
        given,
        recorded_at,
        recorded_by: None,
        how: None,
    };
    let actor = Actor::system("test");
    db.store.insert_consent(&actor, &decide(false, now)).await.unwrap();
    assert_eq!(both(person).await, (false, false), "a withdrawal takes effect on the row at once");
    db.store.insert_consent(&actor, &decide(true, now - 60_000)).await.unwrap();
    assert_eq!(both(person).await, (false, false), "a decision recorded late does not override a newer one");
    let other = ConsentRecord { scope: ConsentScope::Research, ..decide(true, now + 1) };
    db.store.insert_consent(&actor, &other).await.unwrap();
    assert_eq!(both(person).await, (false, false), "another scope leaves care alone");
    db.store.insert_consent(&actor, &decide(true, now + 2)).await.unwrap();
    assert_eq!(both(person).await, (true, true));
}

async fn worklists_show_each_rows_own_person_code(db: &TestDb) {
    let batch = demo_batch(300, 13);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let code: std::collections::HashMap<uuid::Uuid, &str> =
        batch.persons.iter().map(|r| (r.person.id, r.person.code.as_str())).collect();
    let person_of: std::collections::HashMap<&str, uuid::Uuid> =
        batch.referrals.iter().map(|r| (r.code.as_str(), r.person_id)).collect();
    let store = &db.store;
    // Twice: the second time the codes come from memory.
    for _ in 0..2 {
        let overdue = store.overdue_referrals(None, "2100-01-01", 10_000).await.unwrap().rows;
        assert!(!overdue.is_empty());
        for r in &overdue {
            assert_eq!(r.person_code, code[&person_of[r.code.as_str()]], "{}", r.code);
        }
        let follow_ups = store.follow_ups_due(None, "2100-01-01", 10_000).await.unwrap().rows;
        assert!(!follow_ups.is_empty());
        for f in &follow_ups {
            assert_eq!(f.person_code, code[&f.person_id]);
        }
        let lost = store.lost_to_follow_up(None, i64::MAX, 10_000).await.unwrap().rows;
        assert!(!lost.is_empty());
        for l in &lost {
            assert_eq!(l.person_code, code[&l.person_id]);
        }
        let mut urgent = 0;
        for org in batch.persons.iter().map(|r| r.person.organisation_id).collect::<std::collections::BTreeSet<_>>() {
            for u in store.urgent_items(org, 10_000).await.unwrap().rows {
                assert_eq!(u.person_code, code[&u.person_id]);
                urgent += 1;
            }
        }
        assert!(urgent > 0);
    }
    // A whole section is counted by its rows; one cut short by its capped count.
    let cap = hamroh_store::WORKLIST_ROWS;
    let whole = store.overdue_referrals(None, "2100-01-01", 10_000).await.unwrap();
    let first = store.overdue_referrals(None, "2100-01-01", 1).await.unwrap();
    assert_eq!((whole.count, first.count), (whole.rows.len(), whole.rows.len().min(cap)));
    let whole = store.follow_ups_due(None, "2100-01-01", 10_000).await.unwrap();
    let first = store.follow_ups_due(None, "2100-01-01", 1).await.unwrap();
    assert_eq!((whole.count, first.count), (whole.rows.len(), whole.rows.len().min(cap)));
    let none = store.follow_ups_due(None, "2100-01-01", 0).await.unwrap();
    assert_eq!((none.rows.len(), none.count), (0, whole.rows.len().min(cap)), "a count alone");
    let whole = store.lost_to_follow_up(None, i64::MAX, 10_000).await.unwrap();
    let first = store.lost_to_follow_up(None, i64::MAX, 1).await.unwrap();
    assert_eq!((whole.count, first.count), (whole.rows.len(), whole.rows.len().min(cap)));
}

/// Attendances, done follow-ups and positive screenings of the same persons, all at once: each
/// recomputes the persons' lost-to-follow-up rows, appends to the audit chain and counts in the
/// indicator cube. On PostgreSQL they take their locks in one order (ARCHITECTURE.md "Lock
/// order"), so none waits for another in a cycle and every one succeeds.
async fn concurrent_writers_on_the_same_persons_never_deadlock(db: &TestDb) {
    use hamroh_domain::referral::{FollowUpStatus, ReferralStatus};
    let batch = demo_batch(2000, 23);
    let actor = Actor::system("test");
    db.store.insert_batch(&actor, &batch).await.unwrap();
    let open: Vec<_> = batch
        .referrals
        .iter()
        .filter(|r| matches!(r.status, ReferralStatus::Sent | ReferralStatus::Accepted))
        .collect();
    let follow_ups: Vec<_> = batch.follow_ups.iter().filter(|f| f.status == FollowUpStatus::Open).collect();
    let template =
        batch.screenings.iter().find(|s| s.outcome.positive == Some(true)).expect("a positive screening").clone();
    // Rounds of 50 attendances and 150 follow-ups: a wrong order makes a cycle in some rounds, not
    // in every one.
    let rounds = open.chunks(50).zip(follow_ups.chunks(150)).take(4);
    assert_eq!(rounds.clone().count(), 4, "{} referrals, {} follow-ups", open.len(), follow_ups.len());
    for (open, follow_ups) in rounds {
        let mut tasks = tokio::task::JoinSet::new();
        for referral in open.iter().map(|r| (*r).clone()) {
            let (store, actor) = (db.store.clone(), actor.clone());
            tasks.spawn(async move {
                let detail = store.referral_detail(referral.id).await?.expect("a stored referral");
                let step = attendance(referral.status);
                store.record_transition(&actor, &detail, ReferralStatus::Attended, &step, None, &[]).await
            });
        }
        for f in follow_ups.iter().map(|f| (*f).clone()) {
            let (store, actor) = (db.store.clone(), actor.clone());
            tasks.spawn(async move { store.complete_follow_up(&actor, f.id, f.person_id).await });
        }
        // Two screenings each, so that writers of one person meet more often.
        let screened = open.iter().map(|r| r.person_id).chain(follow_ups.iter().map(|f| f.person_id));
        for person in screened.clone().chain(screened) {
            let (store, actor) = (db.store.clone(), actor.clone());
            let mut screening = template.clone();
            (screening.id, screening.encounter_id, screening.person_id) =
                (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), person);
            screening.encounter_at = hamroh_store::now_millis();
            tasks.spawn(async move {
                store.insert_batch(&actor, &Batch { screenings: vec![screening], ..Batch::default() }).await
            });
        }
        while let Some(result) = tasks.join_next().await {
            result.unwrap().unwrap();
        }
    }
    let counts = db.store.counts().await.unwrap();
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(counts.audit_events as u64));
}

/// The step that records a person's attendance of a referral now.
fn attendance(from: hamroh_domain::referral::ReferralStatus) -> hamroh_domain::model::ReferralEvent {
    hamroh_domain::model::ReferralEvent {
        from_status: Some(from),
        to_status: hamroh_domain::referral::ReferralStatus::Attended,
        at: hamroh_store::now_millis(),
        by_user_id: None,
        reason: None,
        barrier: None,
        note: None,
    }
}

/// Whether a person's names match a search's name keys, as the search promises: every key is the
/// family or given name's key, or (three letters or more) its consonants; a year within one.
fn names_match(
    person: &hamroh_domain::model::Person,
    keys: &[hamroh_domain::names::NameKeys],
    year: Option<i32>,
) -> bool {
    let names: Vec<_> = [&person.family_name, &person.given_name]
        .into_iter()
        .flatten()
        .map(|n| hamroh_domain::names::keys(n))
        .collect();
    let each = keys.iter().take(3).all(|k| {
        names.iter().any(|n| n.key == k.key || (k.consonants.chars().count() >= 3 && n.consonants == k.consonants))
    });
    each && year.is_none_or(|y| (person.birth_year.get() - y).abs() <= 1)
}

async fn search_finds_exactly_the_reachable_persons_that_match(db: &TestDb) {
    use hamroh_domain::names::{Query, parse_query};
    use hamroh_domain::referral::ReferralStatus as S;
    let batch = demo_batch(120, 17);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let open = [S::Sent, S::Accepted, S::Attended, S::NoShow];
    let mut queries: Vec<String> = Vec::new();
    for rec in batch.persons.iter().step_by(7) {
        let p = &rec.person;
        queries.extend(p.family_name.clone());
        queries.extend(p.given_name.clone());
        // Another Latin spelling of the same consonants, as a name heard and written down again.
        let respelled = |n: &String| {
            hamroh_domain::names::keys(n)
                .key
                .chars()
                .map(|c| if "aeiou".contains(c) { 'e' } else { c })
                .collect::<String>()
        };
        queries.extend(p.family_name.as_ref().map(respelled));
        queries.extend(p.given_name.as_ref().map(respelled));
        queries.push(format!(
            "{} {} {}",
            p.given_name.as_deref().unwrap_or("x"),
            p.family_name.as_deref().unwrap_or("y"),
            p.birth_year.get()
        ));
        queries.push(p.code.to_lowercase().replace('-', ""));
        queries.extend(p.phone.as_ref().map(|ph| ph.as_str().to_owned()));
        queries.push(p.birth_year.get().to_string());
    }
    let mut found_any = 0;
    for org in &batch.organisations {
        for text in &queries {
            let query = parse_query(text).expect("a query");
            let mut expected: Vec<uuid::Uuid> = batch
                .persons
                .iter()
                .map(|r| &r.person)
                .filter(|p| {
                    p.organisation_id == org.id
                        || batch
                            .referrals
                            .iter()
                            .any(|r| r.person_id == p.id && r.to_organisation_id == org.id && open.contains(&r.status))
                })
                .filter(|p| match &query {
                    Query::Code(c) => &p.code == c,
                    Query::Phone(d) => p.phone.as_ref().is_some_and(|ph| ph.as_str().replace('+', "") == *d),
                    Query::BirthYear(y) => p.birth_year.get() == *y,
                    Query::Name { keys, birth_year } => names_match(p, keys, *birth_year),
                })
                .map(|p| p.id)
                .collect();
            let mut got: Vec<uuid::Uuid> =
                db.store.search_candidates(org.id, &query, 200).await.unwrap().into_iter().map(|s| s.id).collect();
            expected.sort();
            got.sort();
            assert_eq!(got, expected, "organisation {} searching {text:?}", org.name);
            found_any += got.len();
        }
    }
    assert!(found_any > queries.len(), "the queries find people");
}

/// A search (or a worklist) is one audit event naming every person it showed, and each of them finds it in their
/// own audit trail; the chain covers it like any other event.
async fn a_search_or_a_worklist_is_one_audited_read_that_each_person_shown_finds_in_their_trail(db: &TestDb) {
    use hamroh_domain::names::parse_query;
    let batch = demo_batch(120, 17);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let org = batch
        .organisations
        .iter()
        .find(|o| batch.persons.iter().filter(|p| p.person.organisation_id == o.id).count() > 3)
        .unwrap();
    let principal = hamroh_domain::access::Principal {
        user_id: uuid::Uuid::now_v7(),
        organisation_id: org.id,
        sector: org.sector,
        roles: vec![hamroh_domain::org::Role::Clinician],
        token: None,
    };
    let year = batch.persons.iter().find(|p| p.person.organisation_id == org.id).unwrap().person.birth_year.get();
    let before = db.store.audit_len().await.unwrap();
    let shown = db.store.gate(&principal, None).search(&parse_query(&year.to_string()).unwrap(), 50).await.unwrap();
    assert!(!shown.is_empty());
    assert_eq!(db.store.audit_len().await.unwrap(), before + 1, "one event however many are shown");
    for person in &shown {
        let trail = db.store.audit_of_person(person.id, 100).await.unwrap();
        let search =
            trail.iter().find(|e| e.entity == "shown").expect("the search is in the trail of each person shown");
        let detail = search.detail.as_deref().unwrap();
        assert!(detail.starts_with("search "), "{detail}");
        assert_eq!(detail.split(' ').count(), shown.len() + 1, "{detail}");
        assert_eq!(search.actor, format!("user:{}", principal.user_id));
        assert!(
            trail.iter().any(|e| e.action == "create" && e.person_id == Some(person.id)),
            "and the events about them"
        );
    }
    let unseen = batch.persons.iter().find(|p| shown.iter().all(|s| s.id != p.person.id)).unwrap();
    let trail = db.store.audit_of_person(unseen.person.id, 100).await.unwrap();
    assert!(trail.iter().all(|e| e.entity != "shown"), "a person not shown finds no search");
    // A worklist naming the clinic's own persons is one event too.
    let own: Vec<uuid::Uuid> = shown.iter().filter(|p| p.organisation_id == org.id).map(|p| p.id).collect();
    let named = db.store.gate(&principal, None).own_names(&own).await.unwrap();
    assert!(!named.is_empty());
    assert_eq!(db.store.audit_len().await.unwrap(), before + 2);
    for id in named.keys() {
        let trail = db.store.audit_of_person(*id, 100).await.unwrap();
        assert!(trail.iter().any(|e| e.detail.as_deref().is_some_and(|d| d.starts_with("worklist "))), "{trail:?}");
    }
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(before as u64 + 2));
}

/// Every row of the cube, sorted, for comparing two states of it.
async fn whole_cube(store: &Store) -> Vec<String> {
    let mut all = Vec::new();
    for dim in hamroh_store::cube::DIMS {
        for r in store.cube(dim, 190001, 299912, &[]).await.unwrap() {
            all.push(format!("{dim} {:?} {} {} {} {:?} {}", r.measure, r.category, r.month, r.dim_value, r.value, r.n));
        }
    }
    all.sort();
    all
}

async fn the_indicator_cube_kept_on_every_write_equals_one_rebuilt_from_the_records(db: &TestDb) {
    let store = &db.store;
    let actor = Actor::system("test");
    let full = demo_batch(120, 9);
    let directory = Batch {
        organisations: full.organisations.clone(),
        services: full.services.clone(),
        users: full.users.clone(),
        ..Batch::default()
    };
    store.insert_batch(&actor, &directory).await.unwrap();
    // Persons first, their screenings and referrals in later batches: the cube then reads the
    // persons' breakdown values from the database.
    store.insert_batch(&actor, &Batch { persons: full.persons.clone(), ..Batch::default() }).await.unwrap();
    for (screenings, referrals) in
        full.screenings.chunks(97).zip(full.referrals.chunks(7).chain(std::iter::repeat(&[][..])))
    {
        let batch = Batch { screenings: screenings.to_vec(), referrals: referrals.to_vec(), ..Batch::default() };
        store.insert_batch(&actor, &batch).await.unwrap();
    }
    // One step through the store's transition path, which counts it too.
    let sent = full.referrals.iter().find(|r| r.status == hamroh_domain::referral::ReferralStatus::Sent).unwrap();
    let detail = store.referral_detail(sent.id).await.unwrap().unwrap();
    let step = hamroh_domain::model::ReferralEvent {
        from_status: Some(hamroh_domain::referral::ReferralStatus::Sent),
        to_status: hamroh_domain::referral::ReferralStatus::Declined,
        at: hamroh_store::now_millis(),
        by_user_id: None,
        reason: Some("too far".into()),
        barrier: Some(hamroh_domain::referral::Barrier::Distance),
        note: None,
    };
    store
        .record_transition(&actor, &detail, hamroh_domain::referral::ReferralStatus::Declined, &step, None, &[])
        .await
        .unwrap();

    let kept = whole_cube(store).await;
    assert!(kept.iter().any(|r| r.starts_with("none Barrier distance")), "the step's barrier is counted");
    assert!(kept.iter().any(|r| r.starts_with("region Screened phq9")));
    store.rebuild_cube().await.unwrap();
    assert_eq!(kept, whole_cube(store).await);
}

/// A record kept current: the previous values are history, the audit names the fields and not
/// their values, and the person's counts move to the new district and destination in the cube.
async fn a_record_change_keeps_the_old_values_and_moves_the_persons_counts(db: &TestDb) {
    use hamroh_domain::record_update::{InjuryUpdate, RecordUpdate};
    use hamroh_domain::registration::EpisodeInput;
    let store = &db.store;
    let actor = Actor::system("test");
    let batch = demo_batch(40, 21);
    store.insert_batch(&actor, &batch).await.unwrap();
    let rec = batch.persons.iter().find(|r| !r.episodes.is_empty() && r.person.phone.is_some()).unwrap();
    let id = rec.person.id;
    let old_district = rec.person.district;
    let new_district = hamroh_domain::person::DistrictCode::parse(if old_district.as_str() == "TJ-KT.kulob" {
        "TJ-SU.khujand"
    } else {
        "TJ-KT.kulob"
    })
    .unwrap();
    let episode = rec.episodes[0].id;
    let update = RecordUpdate {
        phone: Some("+992 90 555 44 33".into()),
        district: Some(new_district.as_str().into()),
        add_episode: Some(EpisodeInput {
            destination_country: "KZ".into(),
            year_from: "2026".into(),
            work_sector: "agriculture".into(),
            ..EpisodeInput::default()
        }),
        injuries: vec![InjuryUpdate {
            episode_id: episode,
            injury: true,
            injury_cause: "machinery".into(),
            injury_body_part: "upper_limb".into(),
        }],
    };
    let change = update.validate(id, jiff::civil::date(2026, 12, 3)).unwrap();
    let changed = store.change_record(&actor, id, &change, None).await.unwrap();
    let fields: Vec<&str> = changed.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["phone", "district", "injury", "episode"]);

    let person = store.person(id).await.unwrap().unwrap();
    assert_eq!(person.phone.unwrap().as_str(), "+992905554433");
    assert_eq!(person.district, new_district);
    let history = store.record_changes_of(id).await.unwrap();
    let phone = history.iter().find(|c| c.field == "phone").unwrap();
    assert_eq!(phone.previous.as_deref(), Some(rec.person.phone.as_ref().unwrap().as_str()));
    let district = history.iter().find(|c| c.field == "district").unwrap();
    assert_eq!(district.previous.as_deref(), Some(old_district.as_str()));
    assert_eq!(history.iter().find(|c| c.field == "injury").unwrap().current.as_deref(), Some("machinery/upper_limb"));
    let stays = store.episodes_of(id).await.unwrap();
    assert_eq!(stays.len(), rec.episodes.len() + 1);
    assert_eq!(stays[0].1, "KZ", "the later stay comes first");

    let trail = store.audit_of_person(id, 50).await.unwrap();
    let update_event = trail.iter().find(|e| e.action == "update" && e.entity == "person").unwrap();
    assert_eq!(update_event.detail.as_deref(), Some("phone,district"));
    assert!(trail.iter().all(|e| !e.detail.as_deref().unwrap_or_default().contains("555")), "no value in the audit");
    assert!(trail.iter().any(|e| e.action == "create" && e.entity == "migration_episode"));

    let kept = whole_cube(store).await;
    assert!(kept.iter().any(|r| r.starts_with("destination Registered  ") && r.contains(" KZ ")), "{kept:?}");
    store.rebuild_cube().await.unwrap();
    assert_eq!(kept, whole_cube(store).await, "the cube moved the person's counts as a rebuild would");

    // The same values again change nothing and write nothing.
    let again = store
        .change_record(
            &actor,
            id,
            &RecordUpdate {
                phone: Some("+992905554433".into()),
                district: Some(new_district.as_str().into()),
                ..RecordUpdate::default()
            }
            .validate(id, jiff::civil::date(2026, 12, 3))
            .unwrap(),
            None,
        )
        .await
        .unwrap();
    assert!(again.is_empty());
    assert_eq!(store.record_changes_of(id).await.unwrap().len(), history.len());

    // A stay abroad of another person cannot be changed through this one.
    let other = batch.persons.iter().find(|r| r.person.id != id && !r.episodes.is_empty()).unwrap();
    let foreign = RecordUpdate {
        injuries: vec![InjuryUpdate { episode_id: other.episodes[0].id, injury: false, ..InjuryUpdate::default() }],
        ..RecordUpdate::default()
    }
    .validate(id, jiff::civil::date(2026, 12, 3))
    .unwrap();
    let refused = store.change_record(&actor, id, &foreign, None).await.unwrap_err();
    assert!(matches!(refused, hamroh_store::StoreError::Refused { code: "unknown_episode", .. }), "{refused:?}");
}

async fn a_registration_that_draws_a_taken_person_code_is_stored_under_a_fresh_id(db: &TestDb) {
    use hamroh_domain::access::Principal;
    use hamroh_domain::registration::{person_code, reissue};
    let batch = demo_batch(1, 5);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let taken = &batch.persons[0].person;
    let mut record = batch.persons[0].clone();
    let drawn = uuid::Uuid::now_v7();
    reissue(&mut record, drawn);
    record.person.code = taken.code.clone();
    record.episodes.iter_mut().for_each(|e| e.id = uuid::Uuid::now_v7());
    record.consents.iter_mut().for_each(|c| c.id = uuid::Uuid::now_v7());
    let principal = Principal {
        user_id: uuid::Uuid::now_v7(),
        organisation_id: taken.organisation_id,
        sector: hamroh_domain::org::Sector::PrimaryCare,
        roles: vec![hamroh_domain::org::Role::Clinician],
        token: None,
    };
    let gate = db.store.gate(&principal, None);
    let stored = gate.register(record.clone()).await.unwrap();
    assert_ne!(stored.person.id, drawn);
    assert_eq!(stored.person.code, person_code(stored.person.id));
    assert_eq!(db.store.person(drawn).await.unwrap(), None, "nothing is left under the id that drew the taken code");
    assert_eq!(db.store.person(taken.id).await.unwrap().as_ref(), Some(taken), "the holder of the code is untouched");
    let (person, consents) = gate.person_with_consents(stored.person.id).await.unwrap();
    assert_eq!(person, stored.person);
    assert_eq!(consents.len(), record.consents.len());
    assert_eq!(db.store.counts().await.unwrap().persons, 2);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(db.store.counts().await.unwrap().audit_events as u64));
}

/// A referral code is 40 random bits, so a fresh one can be taken at national scale: it is drawn
/// again, and a code that stays taken fails the referral with nothing stored.
async fn a_referral_that_draws_a_taken_code_is_stored_under_a_fresh_one(db: &TestDb) {
    use hamroh_domain::access::Principal;
    use hamroh_store::{ReferralRequest, Silent, StoreError};
    let batch = demo_batch(30, 17);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    // A referral whose person still consents to sharing with its service's sector.
    let consents = |taken: &hamroh_domain::model::Referral| {
        let sector = batch.services.iter().find(|s| s.id == taken.service_id).unwrap().sector;
        let person = batch.persons.iter().find(|p| p.person.id == taken.person_id).unwrap();
        let mut decisions: Vec<_> = person
            .consents
            .iter()
            .filter(|c| c.scope == hamroh_domain::consent::ConsentScope::Sector(sector))
            .collect();
        decisions.sort_by_key(|c| c.recorded_at);
        decisions.last().is_some_and(|c| c.given)
    };
    let taken = batch.referrals.iter().find(|r| consents(r)).expect("the demo refers someone with consent");
    let person = batch.persons.iter().find(|p| p.person.id == taken.person_id).unwrap();
    let principal = Principal {
        user_id: batch.users[0].id,
        organisation_id: person.person.organisation_id,
        sector: hamroh_domain::org::Sector::PrimaryCare,
        roles: vec![hamroh_domain::org::Role::Clinician],
        token: None,
    };
    let gate = db.store.gate(&principal, None);
    let request = ReferralRequest {
        person_id: taken.person_id,
        service_id: taken.service_id,
        reason: "assessment".into(),
        urgency: hamroh_domain::referral::Urgency::Routine,
        screening_id: None,
        note: None,
        today: AS_OF,
    };
    let before = db.store.counts().await.unwrap();

    let mut codes = vec![taken.code.clone(), taken.code.clone(), "R-FRSH-0001".to_owned()].into_iter();
    let stored = gate.refer_drawing(&request, &Silent, || codes.next().unwrap()).await.unwrap();
    assert_eq!(stored.code, "R-FRSH-0001");
    assert_eq!(db.store.referral_detail(stored.id).await.unwrap().unwrap().code, "R-FRSH-0001");
    let holder = db.store.referral_detail(taken.id).await.unwrap().unwrap();
    assert_eq!(
        (holder.code.as_str(), holder.person_id),
        (taken.code.as_str(), taken.person_id),
        "the holder is untouched"
    );

    let always_taken = gate.refer_drawing(&request, &Silent, || taken.code.clone()).await;
    assert!(matches!(always_taken, Err(StoreError::Database(_))), "{always_taken:?}");
    let after = db.store.counts().await.unwrap();
    assert_eq!(after.referrals, before.referrals + 1, "one referral stored, none for the failed one");
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(after.audit_events as u64));
}

async fn an_idempotency_key_is_held_by_one_request_and_written_by_one_server(db: &TestDb) {
    use hamroh_store::idempotency::Begin;
    let batch = demo_batch(2, 21);
    let (earlier, keyed) = batch.persons.split_at(1);
    let mut first = Batch { persons: earlier.to_vec(), ..Batch::default() };
    first.organisations = batch.organisations.clone();
    db.store.insert_batch(&Actor::system("test"), &first).await.unwrap();
    let begin = |store: &Store| {
        let store = store.clone();
        async move { store.idempotency_begin("caller", "k1", "POST", "/api/v1/persons", b"body").await.unwrap() }
    };
    // The same server: a second request with the key is told it is in progress, until the first ends.
    let Begin::Run(claim) = begin(&db.store).await else { panic!("a new key runs") };
    assert!(matches!(begin(&db.store).await, Begin::InProgress));
    drop(claim);
    // Another server sharing the database: both find no row, only the first to write keeps it.
    let other = Store::open(&db.url).await.unwrap();
    let Begin::Run(here) = begin(&db.store).await else { panic!("a released key runs again") };
    let Begin::Run(there) = begin(&other).await else { panic!("the other server holds no claim") };
    let person = Batch { persons: keyed.to_vec(), ..Batch::default() };
    here.run(db.store.insert_batch(&Actor::system("test"), &person)).await.unwrap();
    let mut again = person.clone();
    hamroh_domain::registration::reissue(&mut again.persons[0], uuid::Uuid::now_v7());
    again.persons[0].episodes.iter_mut().for_each(|e| e.id = uuid::Uuid::now_v7());
    again.persons[0].consents.iter_mut().for_each(|c| c.id = uuid::Uuid::now_v7());
    let refused = there.run(other.insert_batch(&Actor::system("test"), &again)).await;
    assert!(matches!(refused, Err(hamroh_store::StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(db.store.counts().await.unwrap().persons, 2, "the other server's write left nothing");
    other.idempotency_finish(there, 201, None, None, b"theirs").await.unwrap();
    db.store.idempotency_finish(here, 201, Some("application/json"), None, b"ours").await.unwrap();
    match begin(&other).await {
        Begin::Replay { status, body, .. } => assert_eq!((status, body.as_slice()), (201, &b"ours"[..])),
        found => panic!("the first answer is replayed, found {found:?}"),
    }
    assert!(matches!(
        db.store.idempotency_begin("caller", "k1", "POST", "/elsewhere", b"body").await.unwrap(),
        Begin::Mismatch
    ));
    assert!(
        matches!(
            db.store.idempotency_begin("caller", "k1", "POST", "/api/v1/persons", b"another body").await.unwrap(),
            Begin::Mismatch
        ),
        "the same key with another body is refused, not replayed"
    );
}

/// An audited read inside a keyed request is not the request's write: if the process stops after
/// the read and before the write, a retry must run again, not be told the write was carried out.
async fn an_audited_read_does_not_mark_a_key_written(db: &TestDb) {
    use hamroh_store::idempotency::Begin;
    // Alone, and through the group writer that `serve` uses.
    for (n, store) in [db.store.clone(), Store::open(&db.url).await.unwrap().with_group_commit()].iter().enumerate() {
        let key = format!("read-{n}");
        let Begin::Run(claim) = store.idempotency_begin("caller", &key, "POST", "/p", b"x").await.unwrap() else {
            panic!("a new key runs")
        };
        claim.run(store.audit(&Actor::system("test"), &[NewAuditEvent::ok("read", "person", "p1")])).await.unwrap();
        // The process stops here: the claim is gone, the answer was never kept.
        drop(claim);
        store.idempotency_release_unwritten().await.unwrap();
        assert!(
            matches!(store.idempotency_begin("caller", &key, "POST", "/p", b"x").await.unwrap(), Begin::Run(_)),
            "nothing was written, so the retry runs (store {n})"
        );
    }
}

async fn red_flags_wait_on_the_worklist_until_they_are_assessed(db: &TestDb) {
    use std::collections::{BTreeMap, HashMap};
    let batch = demo_batch(300, 23);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let at_of: HashMap<uuid::Uuid, i64> = batch.screenings.iter().map(|s| (s.encounter_id, s.encounter_at)).collect();
    // An assessment answers the person's flags raised up to its encounter.
    let answered = |s: &hamroh_domain::model::Screening| {
        batch.safety_assessments.iter().any(|a| a.person_id == s.person_id && at_of[&a.encounter_id] >= s.encounter_at)
    };
    let mut waiting_anywhere = 0;
    for org in &batch.organisations {
        let waiting: Vec<_> = batch
            .screenings
            .iter()
            .filter(|s| s.organisation_id == org.id && !s.outcome.flags.is_empty() && !answered(s))
            .collect();
        let mut persons: BTreeMap<uuid::Uuid, i64> = BTreeMap::new();
        for s in &waiting {
            let first = persons.entry(s.person_id).or_insert(s.encounter_at);
            *first = (*first).min(s.encounter_at);
        }
        let mut order: Vec<(i64, uuid::Uuid)> = persons.iter().map(|(p, at)| (*at, *p)).collect();
        order.sort();
        let expected: Vec<uuid::Uuid> = order.iter().take(20).map(|e| e.1).collect();
        let listing = db.store.urgent_items(org.id, 20).await.unwrap();
        assert_eq!(listing.count, persons.len().min(hamroh_store::WORKLIST_ROWS), "organisation {}", org.name);
        for item in &listing.rows {
            let mut raised: Vec<&str> = waiting
                .iter()
                .filter(|s| s.person_id == item.person_id)
                .flat_map(|s| s.outcome.flags.iter().map(|f| f.as_str()))
                .collect();
            raised.sort();
            raised.dedup();
            let mut shown: Vec<&str> = item.flags.split(',').collect();
            shown.sort();
            assert_eq!(shown, raised, "every waiting flag of the person, each once");
            assert_eq!(item.at, persons[&item.person_id], "since the first waiting flag");
        }
        let got: Vec<uuid::Uuid> = listing.rows.iter().map(|u| u.person_id).collect();
        assert_eq!(got, expected, "one row per person, the longest waiting first: organisation {}", org.name);
        waiting_anywhere += got.len();
    }
    assert!(waiting_anywhere > 0, "the demo leaves some red flags unassessed");
    assert!(batch.screenings.iter().any(|s| !s.outcome.flags.is_empty() && answered(s)), "and assesses others");

    // A decision alone leaves a flag waiting; its assessment answers it.
    let s = batch.screenings.iter().find(|s| !s.outcome.flags.is_empty() && !answered(s)).expect("a waiting flag");
    let listed = |org| async move {
        db.store
            .urgent_items(org, hamroh_store::WORKLIST_ROWS)
            .await
            .unwrap()
            .rows
            .iter()
            .any(|u| u.person_id == s.person_id)
    };
    let decision = hamroh_domain::model::Decision {
        id: uuid::Uuid::now_v7(),
        encounter_id: s.encounter_id,
        person_id: s.person_id,
        organisation_id: s.organisation_id,
        user_id: None,
        suggested: vec!["self_harm".into()],
        choice: "follow".into(),
        action: "urgent_assessment".into(),
        reason: None,
        at: s.encounter_at + 1,
        amends: None,
    };
    db.store
        .insert_batch(&Actor::system("test"), &Batch { decisions: vec![decision], ..Batch::default() })
        .await
        .unwrap();
    assert!(listed(s.organisation_id).await, "a decision does not clear a red flag");
    let latest = batch
        .screenings
        .iter()
        .filter(|x| x.person_id == s.person_id && !x.outcome.flags.is_empty())
        .max_by_key(|x| x.encounter_at)
        .unwrap();
    let assessment = hamroh_domain::model::SafetyAssessment {
        id: uuid::Uuid::now_v7(),
        encounter_id: latest.encounter_id,
        person_id: s.person_id,
        organisation_id: s.organisation_id,
        flag: "self_harm".into(),
        record: hamroh_domain::safety::SafetyRecord::NotPossible {
            reason: hamroh_domain::safety::NotPossible::Moved,
            attempts: 0,
            note: Some("moved to Dushanbe".into()),
        },
        user_id: None,
        at: hamroh_store::now_millis(),
    };
    let batch = Batch { safety_assessments: vec![assessment.clone()], ..Batch::default() };
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    assert!(!listed(s.organisation_id).await, "the recorded reason answers it");
    let stored = db.store.safety_assessments_of(s.person_id).await.unwrap();
    assert_eq!(stored.last(), Some(&assessment), "read back as written");
}

/// Who is lost, computed from the records: for each person, the first positive or flagged
/// screening before the cut-off that no attendance or done follow-up of theirs at or after it
/// answered.
fn lost_from_records(
    raised: &[(uuid::Uuid, i64)],
    answers: &[(uuid::Uuid, i64)],
    cutoff: i64,
) -> BTreeMap<uuid::Uuid, i64> {
    let mut lost = BTreeMap::new();
    for &(person, at) in raised {
        if at < cutoff && !answers.iter().any(|&(p, answered)| p == person && answered >= at) {
            let since = lost.entry(person).or_insert(at);
            *since = (*since).min(at);
        }
    }
    lost
}

/// Who is lost to follow-up and since when, as the store lists them.
async fn lost_since(store: &Store, cutoff: i64) -> BTreeMap<uuid::Uuid, i64> {
    let listing = store.lost_to_follow_up(None, cutoff, 10_000).await.unwrap();
    listing.rows.into_iter().map(|c| (c.person_id, c.since)).collect()
}

/// The (person, time) of every positive or flagged screening of a batch, and of every attendance
/// and done follow-up.
type Times = Vec<(uuid::Uuid, i64)>;
fn raised_and_answered(batch: &Batch) -> (Times, Times) {
    use hamroh_domain::referral::{FollowUpStatus, ReferralStatus};
    let raised = batch
        .screenings
        .iter()
        .filter(|s| s.outcome.positive == Some(true) || !s.outcome.flags.is_empty())
        .map(|s| (s.person_id, s.encounter_at))
        .collect();
    let answered = batch
        .referrals
        .iter()
        .flat_map(|r| r.events.iter().filter(|e| e.to_status == ReferralStatus::Attended).map(|e| (r.person_id, e.at)))
        .chain(
            batch
                .follow_ups
                .iter()
                .filter(|f| f.status == FollowUpStatus::Done)
                .filter_map(|f| f.done_at.map(|at| (f.person_id, at))),
        )
        .collect();
    (raised, answered)
}

/// Writers that raise and answer one person's screenings at the same time, each in its own
/// transaction (PostgreSQL runs them concurrently), leave the row the records call for. (Without
/// the person's lock, two of them inserted the same row, and one failed.)
async fn concurrent_writes_for_one_person_leave_the_right_lost_since(db: &TestDb) {
    use hamroh_domain::referral::FollowUpStatus;
    // The person's own demo records are left out, so that only the writes below count.
    let mut batch = demo_batch(3, 41);
    let person = batch.persons[0].person.id;
    batch.screenings.retain(|s| s.person_id != person);
    batch.decisions.retain(|d| d.person_id != person);
    batch.referrals.retain(|r| r.person_id != person);
    batch.follow_ups.retain(|f| f.person_id != person);
    db.store.insert_batch(&Actor::system("test"), &batch).await.unwrap();
    let cutoff = hamroh_store::now_millis() - 30 * 86_400_000;
    let day = 86_400_000;
    let positive = demo_batch(40, 41).screenings.into_iter().find(|s| s.outcome.positive == Some(true)).unwrap();
    let template = demo_batch(40, 41).follow_ups.into_iter().next().unwrap();
    let mut writes = Vec::new();
    for n in 0..48_i64 {
        let mut write = Batch::default();
        if n % 6 == 5 {
            // An answer in the middle of the screenings below.
            write.follow_ups.push(hamroh_domain::model::FollowUp {
                id: uuid::Uuid::now_v7(),
                person_id: person,
                status: FollowUpStatus::Done,
                done_at: Some(cutoff - (10 + n) * day - day / 2),
                ..template.clone()
            });
        } else {
            write.screenings.push(hamroh_domain::model::Screening {
                id: uuid::Uuid::now_v7(),
                encounter_id: uuid::Uuid::now_v7(),
                person_id: person,
                encounter_at: cutoff - (10 + n) * day,
                ..positive.clone()
            });
        }
        writes.push(write);
    }
    // Without group commit, every write is a transaction of its own.
    let alone = Store::open(&db.url).await.unwrap();
    let mut tasks = Vec::new();
    for write in writes.clone() {
        let store = alone.clone();
        tasks.push(tokio::spawn(async move { store.insert_batch(&Actor::system("test"), &write).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    alone.close().await;
    let (mut raised, mut answered) = raised_and_answered(&batch);
    for write in &writes {
        let (r, a) = raised_and_answered(write);
        raised.extend(r);
        answered.extend(a);
    }
    let expected = lost_from_records(&raised, &answered, cutoff);
    let got = lost_since(&db.store, cutoff).await;
    assert_eq!(got.get(&person), expected.get(&person));
    // The last answer came between the screenings of days 15 and 14 before the cut-off.
    assert_eq!(got.get(&person), Some(&(cutoff - 14 * day)), "the first screening after the last answer");
}

async fn lost_to_follow_up_is_a_positive_screen_that_nothing_answered_since(db: &TestDb) {
    use hamroh_domain::referral::{FollowUpStatus, ReferralStatus};
    let store = &db.store;
    let actor = Actor::system("test");
    let batch = demo_batch(300, 29);
    store.insert_batch(&actor, &batch).await.unwrap();
    let now = hamroh_store::now_millis();
    let cutoff = now - 30 * 86_400_000;
    let (mut raised, mut answers) = raised_and_answered(&batch);
    let lost = async || lost_since(store, cutoff).await;
    let expected = lost_from_records(&raised, &answers, cutoff);
    assert_eq!(lost().await, expected);
    assert!(expected.len() > 4, "the demo loses some people");
    assert!(answers.iter().any(|(p, _)| !expected.contains_key(p)), "and answers others");

    // An attendance recorded later answers what came before it.
    let referral = batch
        .referrals
        .iter()
        .find(|r| {
            expected.contains_key(&r.person_id) && matches!(r.status, ReferralStatus::Sent | ReferralStatus::Accepted)
        })
        .expect("a lost person with an open referral");
    let detail = store.referral_detail(referral.id).await.unwrap().unwrap();
    let step = attendance(referral.status);
    store.record_transition(&actor, &detail, ReferralStatus::Attended, &step, None, &[]).await.unwrap();
    answers.push((referral.person_id, step.at));
    assert!(!lost().await.contains_key(&referral.person_id));
    assert_eq!(lost().await, lost_from_records(&raised, &answers, cutoff));

    // So does a follow-up, done through the worklist or stored done.
    let mut waiting = lost().await.into_keys();
    let (first, second) = (waiting.next().unwrap(), waiting.next().unwrap());
    let template = batch.follow_ups.first().expect("the demo has follow-ups").clone();
    let follow_up = |person_id, status, done_at| hamroh_domain::model::FollowUp {
        id: uuid::Uuid::now_v7(),
        person_id,
        status,
        done_at,
        ..template.clone()
    };
    let open = follow_up(first, FollowUpStatus::Open, None);
    store.insert_batch(&actor, &Batch { follow_ups: vec![open.clone()], ..Batch::default() }).await.unwrap();
    assert!(lost().await.contains_key(&first), "an open follow-up answers nothing");
    store.complete_follow_up(&actor, open.id, first).await.unwrap();
    let done_at: i64 = hamroh_store::now_millis();
    answers.push((first, done_at));
    let done = follow_up(second, FollowUpStatus::Done, Some(done_at));
    store.insert_batch(&actor, &Batch { follow_ups: vec![done], ..Batch::default() }).await.unwrap();
    answers.push((second, done_at));
    assert_eq!(lost().await, lost_from_records(&raised, &answers, cutoff));

    // A positive screening that arrives late (an import) counts from its own time: before the
    // person's last attendance it is answered already; for someone never raised it starts the wait.
    let positive = batch.screenings.iter().find(|s| s.outcome.positive == Some(true)).unwrap();
    let screening = |person_id, encounter_at| hamroh_domain::model::Screening {
        id: uuid::Uuid::now_v7(),
        encounter_id: uuid::Uuid::now_v7(),
        person_id,
        encounter_at,
        ..positive.clone()
    };
    let lost_now = lost().await;
    let (answered, at) = *answers.iter().find(|(p, _)| !lost_now.contains_key(p)).unwrap();
    let never = batch.persons.iter().map(|p| p.person.id).find(|p| !raised.iter().any(|(r, _)| r == p)).unwrap();
    let (day, earlier) = (86_400_000, cutoff - 70 * 86_400_000);
    let late = vec![screening(answered, at - day), screening(never, cutoff - day)];
    store.insert_batch(&actor, &Batch { screenings: late.clone(), ..Batch::default() }).await.unwrap();
    raised.extend(late.iter().map(|s| (s.person_id, s.encounter_at)));
    let now_lost = lost().await;
    assert!(!now_lost.contains_key(&answered));
    assert_eq!(now_lost.get(&never), Some(&(cutoff - day)));
    assert_eq!(now_lost, lost_from_records(&raised, &answers, cutoff));
    // An earlier one moves the wait back.
    let earliest = screening(never, earlier);
    store.insert_batch(&actor, &Batch { screenings: vec![earliest.clone()], ..Batch::default() }).await.unwrap();
    raised.push((never, earlier));
    let now_lost = lost().await;
    assert_eq!(now_lost.get(&never), Some(&earlier));
    assert_eq!(now_lost, lost_from_records(&raised, &answers, cutoff));

    // The coordinator's counts cover every lost person, by registering organisation.
    let by_organisation = store.lost_by_organisation(cutoff).await.unwrap();
    assert_eq!(by_organisation.iter().map(|l| l.count).sum::<i64>(), now_lost.len() as i64);
    let everyone = store.lost_to_follow_up(None, cutoff, 1).await.unwrap();
    assert_eq!((everyone.rows.len(), everyone.count), (1, now_lost.len()), "one row shown, all counted");
    let first_lost = &everyone.rows[0];
    assert_eq!(first_lost.since, *now_lost.values().min().unwrap(), "the longest waiting first");
    // A clinic's own list: its persons only, the longest waiting first.
    let here = store.lost_to_follow_up(Some(first_lost.organisation_id), cutoff, 10_000).await.unwrap();
    let counted = by_organisation.iter().find(|l| l.organisation_id == first_lost.organisation_id).unwrap();
    assert_eq!((here.rows.len() as i64, here.count as i64), (counted.count, counted.count));
    assert!(here.rows.iter().all(|l| l.organisation_id == first_lost.organisation_id));
    assert!(here.rows.windows(2).all(|w| w[0].since <= w[1].since));

    // The indicator counts the persons with an unanswered positive screen in the period, once
    // each, in the month of the first such screen (a person waiting since earlier counts too).
    let last = hamroh_domain::model::period_month(cutoff - day);
    assert!(last > hamroh_domain::model::period_month(earlier));
    for (from, to) in [(202601, 202612), (202605, 202605), (202609, 202610), (202501, 202611), (last, last)] {
        let lo = hamroh_store::facts::month_start_ms(from);
        let hi = hamroh_store::facts::month_start_ms(hamroh_store::facts::next_month(to));
        let mut first: BTreeMap<uuid::Uuid, i64> = BTreeMap::new();
        for &(person, at) in &raised {
            let unanswered = !answers.iter().any(|&(p, answered)| p == person && answered >= at);
            if unanswered && at < cutoff && (lo..hi).contains(&at) {
                let month = first.entry(person).or_insert(at);
                *month = (*month).min(at);
            }
        }
        let mut expected: Vec<i64> = first.values().map(|&at| hamroh_domain::model::period_month(at)).collect();
        expected.sort_unstable();
        let facts = store.lost_facts(from, to, cutoff).await.unwrap();
        assert!(facts.iter().all(|f| f.n == 1));
        let mut got: Vec<i64> = facts.iter().map(|f| f.month).collect();
        got.sort_unstable();
        assert_eq!(got, expected, "{from}..={to}");
        if from == last {
            assert!(first.contains_key(&never), "waiting since an earlier month, and unanswered again in this one");
        }
    }

    // A database from before `unanswered` gets the same rows from the migration that made it.
    let migration = match db.store.backend_name() {
        "sqlite" => include_str!("../migrations/sqlite/0017_unanswered.sql"),
        _ => include_str!("../migrations/postgres/0017_unanswered.sql"),
    };
    let fill = migration.split(';').find(|statement| statement.contains("INSERT INTO unanswered")).unwrap();
    db.tamper("DELETE FROM unanswered").await;
    assert!(lost().await.is_empty());
    db.tamper(fill).await;
    assert_eq!(lost().await, now_lost);
}

async fn releases_are_logged_and_their_published_values_kept_together(db: &TestDb) {
    use hamroh_store::releases::{NewRelease, Published};
    let release = |channel: &str, user: Option<uuid::Uuid>| NewRelease {
        user_id: user,
        organisation_id: None,
        channel: channel.to_owned(),
        request: "indicators=registered from=202601 to=202612 period=month by=district".to_owned(),
        breakdown: "district".to_owned(),
        as_of: 202612,
        k: 5,
        figures: 3,
        withheld: 1,
    };
    let figures = |pairs: &[(&str, &str, i64)]| -> BTreeMap<String, Published> {
        let mut out: BTreeMap<String, Published> = BTreeMap::new();
        for (universe, key, value) in pairs {
            out.entry((*universe).to_owned()).or_default().entry((*key).to_owned()).or_default().insert(*value);
        }
        out
    };
    let analyst = uuid::Uuid::now_v7();
    db.store
        .record_release(
            &release("dashboard", Some(analyst)),
            &figures(&[("Registered|2026|none", "*|y|total", 40)]),
            None,
            &[(2026, "{\"layer\":1}".to_owned())],
        )
        .await
        .unwrap()
        .expect("recorded");
    // Two releases at once on other figures of the same universe: neither loses the other's values.
    let (api, csv) = (release("api", None), release("csv", None));
    let (year, january) =
        (figures(&[("Registered|2026|none", "*|y|total", 47)]), figures(&[("Registered|2026|none", "*|m1|total", 9)]));
    let (a, b) = tokio::join!(
        db.store.record_release(&api, &year, None, &[]),
        db.store.record_release(&csv, &january, None, &[])
    );
    assert!(a.unwrap().is_some() && b.unwrap().is_some());
    let universes = ["Registered|2026|none".to_owned(), "Registered|2025|none".to_owned()];
    let history = db.store.release_history(&universes, &[2025, 2026]).await.unwrap();
    assert_eq!(history.published.len(), 1, "a universe never released has no history");
    assert_eq!(history.layers.len(), 1, "a year never released has no layer");
    assert_eq!(history.layers[&2026], "{\"layer\":1}", "the layer recorded with the first release");
    let kept = &history.published["Registered|2026|none"];
    assert_eq!(kept["*|y|total"].iter().copied().collect::<Vec<_>>(), vec![40, 47]);
    assert_eq!(kept["*|m1|total"].iter().copied().collect::<Vec<_>>(), vec![9]);
    assert_eq!(history.generation, 3, "three releases recorded");

    // Two releases protected against the same history (two processes at once): one is recorded,
    // the other is told to protect again, and records nothing.
    let (one, two) =
        (figures(&[("Registered|2026|none", "*|y|total", 52)]), figures(&[("Registered|2026|none", "*|y|total", 53)]));
    let layer = [(2026, "two".to_owned())];
    let (a, b) = tokio::join!(
        db.store.record_release(&api, &one, Some(history.generation), &layer),
        db.store.record_release(&csv, &two, Some(history.generation), &layer)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_some() != b.is_some(), "exactly one of them is recorded: {a:?} {b:?}");
    let now = db.store.release_history(&universes, &[2026]).await.unwrap();
    assert_eq!(now.generation, 4);
    assert_eq!(now.layers[&2026], "two", "the recorded release replaced the year's layer");
    let year_values: Vec<i64> = now.published["Registered|2026|none"]["*|y|total"].iter().copied().collect();
    assert_eq!(year_values.len(), 3, "the refused release left no value: {year_values:?}");
    let again = if a.is_some() { &two } else { &one };
    assert!(db.store.record_release(&csv, again, Some(now.generation), &[]).await.unwrap().is_some());
    assert_eq!(db.store.earlier_layers(2026).await.unwrap(), vec!["{\"layer\":1}".to_owned()], "the layer before");

    // Each new layer of a year moves the last one to those before it, of which the newest few
    // are kept, oldest first.
    let kept_before = hamroh_store::releases::EARLIER_LAYERS_KEPT as usize;
    for n in 3..=kept_before + 4 {
        let layer = [(2026, format!("layer {n}"))];
        assert!(db.store.record_release(&csv, &BTreeMap::new(), None, &layer).await.unwrap().is_some());
    }
    let before = db.store.earlier_layers(2026).await.unwrap();
    let expected: Vec<String> = (4..kept_before + 4).map(|n| format!("layer {n}")).collect();
    assert_eq!(before, expected);
    let latest = db.store.release_history(&universes, &[2026]).await.unwrap();
    assert_eq!(latest.layers[&2026], format!("layer {}", kept_before + 4));
    assert!(db.store.earlier_layers(2025).await.unwrap().is_empty(), "a year never released has none");

    let log = db.store.releases(50).await.unwrap();
    assert_eq!(log.len(), 5 + kept_before + 2);
    let first = log.iter().find(|r| r.release.channel == "dashboard").unwrap();
    assert_eq!(
        (first.release.user_id, first.release.breakdown.as_str(), first.release.as_of, first.release.k),
        (Some(analyst), "district", 202612, 5)
    );
    assert!(log.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
}

/// What the write path derives from the records of `persons`: each one's waiting red flags and
/// encounters that did not ask about self-harm, whom the lost-to-follow-up list shows since when,
/// and the whole cube.
async fn derived(store: &Store, persons: &[uuid::Uuid]) -> Vec<String> {
    let mut out = Vec::new();
    for &p in persons {
        for flag in store.waiting_flags_of(p).await.unwrap() {
            out.push(format!("waiting {p} {flag:?}"));
        }
        for unasked in store.self_harm_unasked_of(p).await.unwrap() {
            out.push(format!("unasked {p} {unasked:?}"));
        }
    }
    for lost in store.lost_to_follow_up(None, i64::MAX, 100_000).await.unwrap().rows {
        out.push(format!("lost {} {} {}", lost.person_id, lost.organisation_id, lost.since));
    }
    out.extend(whole_cube(store).await);
    out
}

/// Writes the demo directory and `people` persons (seed 4) to `store` record by record, or
/// through a bulk load left unfinished; returns the persons' ids.
async fn load_people(store: &Store, people: u64, bulk: Option<&hamroh_store::bulk::BulkLoad>) -> Vec<uuid::Uuid> {
    let actor = Actor::system("test");
    let dir = directory();
    store.insert_batch(&actor, &dir.batch("$argon2id$not-a-real-hash")).await.unwrap();
    let mut gen_people = DemoPeople::new(DemoConfig { people, seed: 4, as_of: AS_OF }, &dir);
    let mut ids = Vec::new();
    while let Some(chunk) = gen_people.next_chunk(70) {
        ids.extend(chunk.persons.iter().map(|p| p.person.id));
        match bulk {
            Some(load) => load.insert(&actor, &chunk).await.unwrap(),
            None => store.insert_batch(&actor, &chunk).await.unwrap(),
        }
    }
    ids
}

async fn a_bulk_load_leaves_the_database_that_writing_record_by_record_leaves(db: &TestDb) {
    let by_record = db.another().await;
    let ids = load_people(&by_record.store, 500, None).await;
    let expected = derived(&by_record.store, &ids).await;
    assert!(expected.iter().any(|d| d.starts_with("waiting")), "some red flags wait: {expected:?}");
    assert!(expected.iter().any(|d| d.starts_with("lost")), "some persons are lost to follow-up");
    let answered = demo_batch(500, 4).safety_assessments.len();
    assert!(answered > 0, "some red flags were answered, so their closing is checked");

    let indexes = db.indexes().await;
    let load = db.store.begin_bulk_load().await.unwrap();
    assert!(db.indexes().await.len() < indexes.len(), "secondary indexes are set aside while loading");
    assert_eq!(load_people(&db.store, 500, Some(&load)).await, ids);
    load.finish().await.unwrap();
    assert_eq!(db.indexes().await, indexes, "every index is back, as it was defined");
    assert_eq!(derived(&db.store, &ids).await, expected);
    assert!(db.store.verify_audit().await.unwrap().is_ok(), "one audit chain, unbroken");
    assert_eq!(db.store.counts().await.unwrap(), by_record.store.counts().await.unwrap());
    by_record.cleanup().await;
}

async fn a_bulk_load_cut_short_is_finished_when_the_store_next_opens(db: &TestDb) {
    let by_record = db.another().await;
    let ids = load_people(&by_record.store, 150, None).await;
    let expected = derived(&by_record.store, &ids).await;

    let indexes = db.indexes().await;
    let load = db.store.begin_bulk_load().await.unwrap();
    load_people(&db.store, 150, Some(&load)).await;
    drop(load);
    let reopened = Store::open(&db.url).await.unwrap();
    assert_eq!(db.indexes().await, indexes);
    assert_eq!(derived(&reopened, &ids).await, expected);
    reopened.close().await;
    by_record.cleanup().await;
}

hamroh_store::on_both_backends!(
    a_bulk_load_leaves_the_database_that_writing_record_by_record_leaves,
    a_bulk_load_cut_short_is_finished_when_the_store_next_opens,
    releases_are_logged_and_their_published_values_kept_together,
    red_flags_wait_on_the_worklist_until_they_are_assessed,
    lost_to_follow_up_is_a_positive_screen_that_nothing_answered_since,
    concurrent_writes_for_one_person_leave_the_right_lost_since,
    an_idempotency_key_is_held_by_one_request_and_written_by_one_server,
    an_audited_read_does_not_mark_a_key_written,
    a_registration_that_draws_a_taken_person_code_is_stored_under_a_fresh_id,
    a_referral_that_draws_a_taken_code_is_stored_under_a_fresh_one,
    search_finds_exactly_the_reachable_persons_that_match,
    a_search_or_a_worklist_is_one_audited_read_that_each_person_shown_finds_in_their_trail,
    the_facts_of_many_persons_at_once_are_the_facts_of_each,
    a_persons_care_consent_on_its_row_follows_the_ledger,
    worklists_show_each_rows_own_person_code,
    concurrent_writers_on_the_same_persons_never_deadlock,
    concurrent_record_writes_share_commits_and_one_bad_batch_fails_alone,
    the_indicator_cube_kept_on_every_write_equals_one_rebuilt_from_the_records,
    a_record_change_keeps_the_old_values_and_moves_the_persons_counts,
    a_new_database_is_empty_and_migrating_again_changes_nothing,
    records_read_back_as_they_were_written,
    every_write_is_audited_in_an_unbroken_chain,
    a_failed_batch_leaves_nothing_behind,
    audit_verify_finds_altered_removed_and_reordered_events,
    audit_verify_finds_a_removed_event_in_the_middle_and_at_the_end,
    concurrent_writers_each_get_their_place_in_the_chain,
    acknowledged_writes_are_durable,
);

/// A write that waited out SQLite's busy timeout (another process held the database) is told
/// apart from other failures, so that callers can answer "busy, try again" instead of a fault.
#[tokio::test]
async fn a_write_that_finds_the_database_locked_is_busy() {
    let db = TestDb::sqlite().await;
    let hamroh_store::DbUrl::Sqlite(path) = &db.url else { unreachable!("a SQLite test database") };
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
    let holder = sqlx::SqlitePool::connect_with(options.clone()).await.unwrap();
    let held = holder.begin_with("BEGIN IMMEDIATE").await.unwrap();
    let impatient = sqlx::SqlitePool::connect_with(options.busy_timeout(std::time::Duration::ZERO)).await.unwrap();
    let refused = sqlx::query("UPDATE audit_head SET seq = seq").execute(&impatient).await.unwrap_err();
    let error = hamroh_store::StoreError::from(refused);
    assert!(matches!(error, hamroh_store::StoreError::Busy(_)), "{error:?}");
    // An explicit rollback, not a drop: dropping a transaction only queues its rollback on the
    // connection, so the lock could still be held when the next write tries.
    held.rollback().await.unwrap();
    sqlx::query("UPDATE audit_head SET seq = seq").execute(&impatient).await.unwrap();
    impatient.close().await;
    holder.close().await;
}

/// A value of a row written directly, past the store.
#[derive(Clone)]
enum Raw {
    Uuid(Option<uuid::Uuid>),
    Text(Option<String>),
    Int(i64),
    Bool(bool),
}

/// Writes `rows` with `text` directly: for rows as an older schema holds them, which this code
/// no longer writes.
async fn write_raw(url: &hamroh_store::DbUrl, text: &'static str, rows: &[Vec<Raw>]) {
    macro_rules! run {
        ($pool:expr) => {{
            let pool = $pool;
            for row in rows {
                let mut q = sqlx::query(text);
                for v in row.iter().cloned() {
                    q = match v {
                        Raw::Uuid(v) => q.bind(v),
                        Raw::Text(v) => q.bind(v),
                        Raw::Int(v) => q.bind(v),
                        Raw::Bool(v) => q.bind(v),
                    };
                }
                q.execute(&pool).await.unwrap();
            }
            pool.close().await;
        }};
    }
    match url {
        hamroh_store::DbUrl::Sqlite(path) => {
            run!(
                sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(path)).await.unwrap()
            )
        }
        hamroh_store::DbUrl::Postgres(url) => run!(sqlx::PgPool::connect(url).await.unwrap()),
    }
}

/// Upgrading a database filled before migration 0018 gives each person the care consent its
/// consent ledger holds, withdrawals and late-recorded older decisions included, on both backends.
#[tokio::test]
async fn the_upgrade_to_care_consent_on_the_row_fills_it_from_the_ledger() {
    use hamroh_domain::consent::ConsentScope;
    use hamroh_domain::model::ConsentRecord;
    use hamroh_domain::names::Query;
    let mut dbs = vec![TestDb::sqlite_through(Some(17)).await];
    dbs.extend(TestDb::postgres_through(Some(17)).await);
    for db in dbs {
        // Only what the schema of migration 17 holds as this code writes it: the users and the
        // persons; the organisations and the consent decisions as that schema has them.
        let all = demo_batch(60, 19);
        let organisations: Vec<Vec<Raw>> = all
            .organisations
            .iter()
            .map(|o| {
                vec![
                    Raw::Uuid(Some(o.id)),
                    Raw::Text(Some(o.name.clone())),
                    Raw::Text(Some(o.sector.as_str().to_owned())),
                    Raw::Text(o.district.map(|d| d.as_str().to_owned())),
                    Raw::Bool(o.uses_hamroh),
                ]
            })
            .collect();
        let org_text = "INSERT INTO organisations (id, name, sector, district, uses_hamroh, created_at) \
                        VALUES ($1, $2, $3, $4, $5, 0)";
        write_raw(&db.url, org_text, &organisations).await;
        let mut persons = all.persons.clone();
        let mut decisions: Vec<ConsentRecord> =
            persons.iter_mut().flat_map(|r| std::mem::take(&mut r.consents)).collect();
        let batch = Batch { users: all.users, persons, ..Batch::default() };
        let actor = Actor::system("test");
        db.store.insert_batch(&actor, &batch).await.unwrap();
        let now = hamroh_store::now_millis();
        for (i, r) in batch.persons.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
            let decide = |given: bool, recorded_at: i64| ConsentRecord {
                id: uuid::Uuid::now_v7(),
                person_id: r.person.id,
                scope: ConsentScope::Care,
                given,
                recorded_at,
                recorded_by: None,
                how: None,
            };
            decisions.push(decide(false, now));
            if i % 2 == 0 {
                decisions.push(decide(true, now - 60_000));
            }
        }
        let consent_rows: Vec<Vec<Raw>> = decisions
            .iter()
            .map(|c| {
                vec![
                    Raw::Uuid(Some(c.id)),
                    Raw::Uuid(Some(c.person_id)),
                    Raw::Text(Some(c.scope.to_string())),
                    Raw::Bool(c.given),
                    Raw::Int(c.recorded_at),
                    Raw::Uuid(c.recorded_by),
                ]
            })
            .collect();
        let consent_text = "INSERT INTO consents (id, person_id, scope, given, recorded_at, recorded_by) \
                            VALUES ($1, $2, $3, $4, $5, $6)";
        write_raw(&db.url, consent_text, &consent_rows).await;
        db.store.migrate().await.unwrap();
        let mut seen = Vec::new();
        for r in &batch.persons {
            let p = &r.person;
            let found = db.store.search_candidates(p.organisation_id, &Query::Code(p.code.clone()), 5).await.unwrap();
            let facts = db.store.person_facts(p.id).await.unwrap().unwrap();
            assert_eq!(found[0].care_consent, facts.consents.contains(&ConsentScope::Care), "{}", p.code);
            seen.push(found[0].care_consent);
        }
        assert!(seen.contains(&true) && seen.contains(&false), "{seen:?}");
        db.cleanup().await;
    }
}
