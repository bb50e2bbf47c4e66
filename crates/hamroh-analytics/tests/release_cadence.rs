//! A release cadence: with a new release made at most every so often, a page in between shows the
//! last release again as it was, counts included, and makes no new release layer; without one (or
//! once the time has passed), changed counts make a new release.

use hamroh_analytics::{CATALOGUE, Dimension, PeriodKind, Query, Table};
use hamroh_demo::{DemoConfig, DemoPeople, directory};
use hamroh_store::Actor;
use hamroh_store::testing::TestDb;

const HOUR_MS: i64 = 3_600_000;

hamroh_store::on_both_backends!(between_releases_the_last_one_is_shown_as_it_was);

async fn between_releases_the_last_one_is_shown_as_it_was(db: &TestDb) {
    let dir = directory();
    let actor = Actor::system("test");
    db.store.insert_batch(&actor, &dir.batch("$argon2id$not-a-real-hash")).await.unwrap();
    let config = DemoConfig { people: 600, seed: 9, as_of: jiff::civil::date(2026, 10, 31) };
    let mut people = DemoPeople::new(config, &dir);
    for _ in 0..5 {
        let batch = people.next_chunk(100).unwrap();
        db.store.insert_batch(&actor, &batch).await.unwrap();
    }
    let indicators: Vec<_> = CATALOGUE.iter().collect();
    let to = hamroh_analytics::Recipient { user_id: None, organisation_id: None, channel: "test".to_owned() };
    let year = 2026;
    // Each breakdown in turn, the counts changed before each: by the later ones, so many releases
    // have been made that nearly everything is hidden (a reason for a cadence).
    for (turn, by) in
        [Some(Dimension::District), Some(Dimension::Category), Some(Dimension::Region), None].into_iter().enumerate()
    {
        let query = Query {
            from: 202601,
            to: 202610,
            period: PeriodKind::Quarter,
            by,
            k: 5,
            min_share_group: 10,
            as_of: 202610,
        };
        let page = |every: i64| {
            let (store, indicators, query, to) = (&db.store, &indicators, &query, &to);
            async move {
                hamroh_analytics::tables_and_loss_every(store, indicators, query, i64::MIN, to, every).await.unwrap().0
            }
        };
        let first: Vec<Table> = page(HOUR_MS).await;
        let layers_before = db.store.earlier_layers(year).await.unwrap().len();
        let registered = |tables: &[Table]| -> Option<i64> {
            let t = tables.iter().find(|t| t.indicator.id == "registered")?;
            t.cells.last()?.last()?.numerator
        };
        // More people: the counts change.
        let batch = people.next_chunk(20).unwrap();
        db.store.insert_batch(&actor, &batch).await.unwrap();

        // Within the hour: the same tables, no new layer.
        let again = page(HOUR_MS).await;
        assert_eq!(again, first, "by {by:?}: the last release shown again as it was");
        assert_eq!(db.store.earlier_layers(year).await.unwrap().len(), layers_before, "no new release layer");

        // Without a cadence: a new release, from the counts as they are now.
        let fresh = page(0).await;
        assert_eq!(db.store.earlier_layers(year).await.unwrap().len(), layers_before + 1, "a new release layer");
        if turn == 0 {
            assert_ne!(fresh, first, "by {by:?}: the new release shows the counts as they are now");
        }
        if let (Some(was), Some(now)) = (registered(&first), registered(&fresh)) {
            assert!(now > was, "by {by:?}: registrations {was} then {now}");
        }
    }
}
