//! Keeping a person's record current after registration. A change keeps the values it replaced
//! (`record_changes`), is audited with the fields it touched (never their values: the audit chain
//! is read by more people than the record), and moves the person's counts in the indicator cube
//! when a breakdown value (district, the last stay abroad) changes, in one transaction.

use hamroh_domain::model::MigrationEpisode;
use hamroh_domain::record_update::RecordChange;
use uuid::Uuid;

use crate::audit::{Actor, NewAuditEvent};
use crate::cube::{Increments, flush_moves};
use crate::exec::{Reader, Tx, sql};
use crate::facts::{Fact, FactScope, counted_facts};
use crate::records::{EPISODE_INSERT, episode_values};
use crate::{Result, Store, StoreError, now_millis};

/// One field's change, as kept: the value before and after (`None`: there was none).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct FieldChange {
    /// `person` or `migration_episode`.
    pub entity: String,
    pub entity_id: Uuid,
    /// `phone`, `district`, `episode` (a stay abroad added) or `injury` (`cause/body_part`).
    pub field: String,
    pub previous: Option<String>,
    pub current: Option<String>,
    pub changed_at: i64,
    pub changed_by: Option<Uuid>,
    /// The changer's name, as history reads it back (not filled on the change itself).
    pub changed_by_name: Option<String>,
}

/// A work injury as history keeps it.
fn injury_text(cause: Option<&str>, body_part: Option<&str>) -> Option<String> {
    cause.map(|c| format!("{c}/{}", body_part.unwrap_or_default()))
}

/// A stay abroad as history keeps it: `RU 2019-2024 construction`.
fn episode_text(e: &MigrationEpisode) -> String {
    let to = e.year_to.map(|y| y.to_string()).unwrap_or_default();
    format!("{} {}-{to} {}", e.destination_country, e.year_from, e.work_sector.as_str())
}

impl Store {
    /// Applies `change` to the person's record; the fields that changed (none when every value
    /// was already so, and then nothing is written). `by` is the user making the change.
    pub async fn change_record(
        &self,
        actor: &Actor,
        person_id: Uuid,
        change: &RecordChange,
        by: Option<Uuid>,
    ) -> Result<Vec<FieldChange>> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let row: Option<(String, Option<String>)> =
            tx.fetch_optional(sql("SELECT district, phone FROM persons WHERE id = $1").bind(person_id)).await?;
        let Some((district, phone)) = row else { return Err(StoreError::NotFound) };
        let field = |entity: &str, entity_id: Uuid, field: &str, previous: Option<String>, current: Option<String>| {
            FieldChange {
                entity: entity.to_owned(),
                entity_id,
                field: field.to_owned(),
                previous,
                current,
                changed_at: now,
                changed_by: by,
                changed_by_name: None,
            }
        };
        let mut changes = Vec::new();
        if let Some(new) = &change.phone {
            let new = new.as_ref().map(|p| p.as_str().to_owned());
            if new != phone {
                changes.push(field("person", person_id, "phone", phone, new));
            }
        }
        if let Some(new) = change.district.filter(|d| d.as_str() != district) {
            changes.push(field("person", person_id, "district", Some(district), Some(new.as_str().to_owned())));
        }
        for (episode, injury) in &change.injuries {
            let row: Option<(Option<String>, Option<String>)> = tx
                .fetch_optional(
                    sql("SELECT injury_cause, injury_body_part FROM migration_episodes WHERE id = $1 AND person_id = $2")
                        .bind(*episode)
                        .bind(person_id),
                )
                .await?;
            let Some((cause, part)) = row else {
                return Err(StoreError::Refused {
                    code: "unknown_episode",
                    message: format!("the person has no recorded stay abroad {episode}"),
                });
            };
            let before = injury_text(cause.as_deref(), part.as_deref());
            let after = injury.map(|i| format!("{}/{}", i.cause.as_str(), i.body_part.as_str()));
            if before != after {
                changes.push(field("migration_episode", *episode, "injury", before, after));
            }
        }
        if let Some(e) = &change.add_episode {
            changes.push(field("migration_episode", e.id, "episode", None, Some(episode_text(e))));
        }
        if changes.is_empty() {
            return Ok(changes);
        }
        crate::idempotency::mark_request_written(&mut tx).await?;
        let before = counted_facts(&mut Reader::Tx(&mut tx), FactScope::Person(person_id)).await?;
        apply(&mut tx, person_id, change, now).await?;
        let after = counted_facts(&mut Reader::Tx(&mut tx), FactScope::Person(person_id)).await?;
        let mut moves = Increments::default();
        for f in before {
            moves.add_fact(&Fact { n: -f.n, ..f });
        }
        for f in &after {
            moves.add_fact(f);
        }
        flush_moves(&mut tx, moves).await?;
        let rows = changes.iter().map(|c| {
            values![
                Uuid::now_v7(),
                person_id,
                c.entity.as_str(),
                c.entity_id,
                c.field.as_str(),
                &c.previous,
                &c.current,
                c.changed_at,
                c.changed_by
            ]
        });
        tx.insert_rows(
            "INSERT INTO record_changes (id, person_id, entity, entity_id, field, previous, current, changed_at, \
             changed_by) ",
            rows,
            "",
        )
        .await?;
        let mut events = Vec::new();
        let person_fields: Vec<&str> =
            changes.iter().filter(|c| c.entity == "person").map(|c| c.field.as_str()).collect();
        if !person_fields.is_empty() {
            let mut e = NewAuditEvent::ok("update", "person", person_id).person(person_id);
            e.detail = Some(person_fields.join(","));
            events.push(e);
        }
        for c in changes.iter().filter(|c| c.entity == "migration_episode") {
            let action = if c.field == "episode" { "create" } else { "update" };
            let mut e = NewAuditEvent::ok(action, "migration_episode", c.entity_id).person(person_id);
            e.detail = Some(c.field.clone());
            events.push(e);
        }
        crate::audit::append(&mut tx, actor, &events.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(changes)
    }

    /// The changes made to a person's record after registration, the latest first; callers that
    /// show them record the read.
    pub async fn record_changes_of(&self, person_id: Uuid) -> Result<Vec<FieldChange>> {
        self.fetch_all(
            sql("SELECT c.entity, c.entity_id, c.field, c.previous, c.current, c.changed_at, c.changed_by, \
                 u.display_name AS changed_by_name FROM record_changes c LEFT JOIN users u ON u.id = c.changed_by \
                 WHERE c.person_id = $1 ORDER BY c.changed_at DESC, c.field")
            .bind(person_id),
        )
        .await
    }
}

/// Writes the change's values. The person's destination and work sector in indicators are those
/// of the last stay abroad, as at registration: a stay added from the latest year on takes over.
async fn apply(tx: &mut Tx, person_id: Uuid, change: &RecordChange, now: i64) -> Result<()> {
    if let Some(phone) = &change.phone {
        tx.execute(
            sql("UPDATE persons SET phone = $1 WHERE id = $2")
                .bind(phone.as_ref().map(|p| p.as_str().to_owned()))
                .bind(person_id),
        )
        .await?;
    }
    if let Some(d) = change.district {
        tx.execute(
            sql("UPDATE persons SET district = $1, region = $2 WHERE id = $3")
                .bind(d.as_str())
                .bind(d.region())
                .bind(person_id),
        )
        .await?;
    }
    for (episode, injury) in &change.injuries {
        tx.execute(
            sql("UPDATE migration_episodes SET injury = $1, injury_cause = $2, injury_body_part = $3 WHERE id = $4")
                .bind(injury.is_some())
                .bind(injury.map(|i| i.cause.as_str()))
                .bind(injury.map(|i| i.body_part.as_str()))
                .bind(*episode),
        )
        .await?;
    }
    if let Some(e) = &change.add_episode {
        let latest: Option<i64> = tx
            .scalar(sql("SELECT MAX(year_from) FROM migration_episodes WHERE person_id = $1").bind(person_id))
            .await?;
        let values = episode_values(e, now);
        tx.execute(
            sql(sqlx::AssertSqlSafe(format!("{EPISODE_INSERT}VALUES ({})", tx.placeholders(values.len()))))
                .bind_all(values),
        )
        .await?;
        if latest.is_none_or(|y| i64::from(e.year_from) >= y) {
            tx.execute(
                sql("UPDATE persons SET destination = $1, work_sector = $2 WHERE id = $3")
                    .bind(e.destination_country.as_str())
                    .bind(e.work_sector.as_str())
                    .bind(person_id),
            )
            .await?;
        }
    }
    tx.execute(sql("UPDATE persons SET updated_at = $1 WHERE id = $2").bind(now).bind(person_id)).await?;
    Ok(())
}
