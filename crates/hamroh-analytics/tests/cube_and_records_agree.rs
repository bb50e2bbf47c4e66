//! The dashboard reads the indicator cube; the definitions are the live queries over the records.
//! For a demo data set, every indicator by every breakdown must come out the same both ways.

use hamroh_analytics::table::{build_all, records};
use hamroh_analytics::{CATALOGUE, Dimension, PeriodKind, Query};
use hamroh_demo::{DemoConfig, DemoPeople, directory};
use hamroh_store::Actor;
use hamroh_store::testing::TestDb;

async fn load(db: &TestDb) {
    let dir = directory();
    let actor = Actor::system("test");
    let directory_batch = dir.batch("$argon2id$not-a-real-hash");
    db.store.insert_batch(&actor, &directory_batch).await.unwrap();
    let config = DemoConfig { people: 400, seed: 5, as_of: jiff::civil::date(2026, 10, 31) };
    let mut people = DemoPeople::new(config, &dir);
    while let Some(batch) = people.next_chunk(100) {
        db.store.insert_batch(&actor, &batch).await.unwrap();
    }
}

/// The figures go to the command line: each look is a release, recorded like any other.
fn analyst() -> hamroh_analytics::Recipient {
    hamroh_analytics::Recipient { user_id: None, organisation_id: None, channel: "test".to_owned() }
}

hamroh_store::on_both_backends!(every_indicator_by_every_breakdown_is_the_same_from_the_cube_and_the_records);

async fn every_indicator_by_every_breakdown_is_the_same_from_the_cube_and_the_records(db: &TestDb) {
    load(db).await;
    let indicators: Vec<_> = CATALOGUE.iter().filter(|i| i.id != "lost_to_follow_up").collect();
    let facts = db.store.facts(202401, 202610, i64::MIN).await.unwrap();
    let mut breakdowns: Vec<Option<Dimension>> = Dimension::ALL.into_iter().map(Some).collect();
    breakdowns.push(None);
    for by in breakdowns {
        for period in [PeriodKind::Quarter, PeriodKind::Month] {
            let query = Query { from: 202401, to: 202610, period, by, k: 5, min_share_group: 10, as_of: 202610 };
            let from_cube =
                hamroh_analytics::tables(&db.store, &indicators, &query, i64::MIN, &analyst()).await.unwrap();
            let live = records(facts.clone(), by);
            let expected = build_all(&indicators, &live, &query);
            for ((indicator, cube_table), expected) in indicators.iter().zip(&from_cube).zip(&expected) {
                assert_eq!(cube_table, expected, "{} by {by:?} per {period:?}", indicator.id);
            }
        }
    }
    let some_published = hamroh_analytics::tables(
        &db.store,
        &indicators,
        &Query {
            from: 202401,
            to: 202610,
            period: PeriodKind::Year,
            by: None,
            k: 5,
            min_share_group: 10,
            as_of: 202610,
        },
        i64::MIN,
        &analyst(),
    )
    .await
    .unwrap();
    assert!(some_published.iter().any(|t| t.cells.iter().flatten().any(|c| c.value.is_some())));
}
