//! Forms filled offline (ODK Collect, KoBoCollect, Enketo) and sent when the connection returns.
//! A submission is stored once, by its instance id, together with what it records, in one
//! transaction: sent again unchanged it is acknowledged and nothing changes; sent again changed
//! it is refused. A registration that may name someone already registered is held, not guessed,
//! until a person of the organisation registers it as new or records it as the same person.

use hamroh_domain::model::{Batch, PersonRecord, Screening};
use hamroh_domain::registration::Registration;
use uuid::Uuid;

use crate::audit::NewAuditEvent;
use crate::exec::sql;
use crate::records::ImportedSubmission;
use crate::{Gate, Result, Store, StoreError, now_millis};

/// What became of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Stored now.
    Stored,
    /// Held for a person to decide (a registration that may name someone registered).
    Held,
    /// Received before with the same content: nothing changed.
    Again,
    /// Received before with other content under the same instance id: refused.
    Different,
}

/// Which submission: where it came from, its instance id, and the digest of its content.
#[derive(Debug, Clone, Copy)]
pub struct SubmissionKey<'a> {
    pub source: &'a str,
    pub id: &'a str,
    pub digest: &'a str,
}

impl SubmissionKey<'_> {
    /// Stores `batch` and remembers the submission with it, all or nothing.
    pub(crate) async fn store(
        &self,
        gate: &Gate<'_>,
        batch: &Batch,
        person_id: Uuid,
        encounter_id: Option<Uuid>,
        messages: &[crate::outbox::OutboxMessage],
    ) -> Result<()> {
        let submission = ImportedSubmission {
            submission_id: self.id.to_owned(),
            digest: self.digest.to_owned(),
            person_id,
            encounter_id,
        };
        // The instance id is the device's own: it says nothing about the person.
        let detail = format!("submission {}", self.id);
        gate.store.insert_imported(&gate.actor, batch, self.source, &[submission], detail, messages).await
    }

    /// What an earlier receipt of this submission means for this one, if there was one.
    pub async fn seen(&self, store: &Store) -> Result<Option<Received>> {
        let digest = store.submission_digest(self.source, self.id).await?;
        Ok(digest.map(|d| if d == self.digest { Received::Again } else { Received::Different }))
    }

    /// A write that failed because the submission was received meanwhile, as that receipt;
    /// any other failure as itself.
    async fn settle(&self, store: &Store, written: Result<()>) -> Result<Received> {
        match written {
            Ok(()) => Ok(Received::Stored),
            Err(e) if e.is_unique_violation() => self.seen(store).await?.ok_or(e),
            Err(e) => Err(e),
        }
    }
}

/// A registration waiting for a person to decide whether it names someone already registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRegistration {
    pub source: String,
    pub submission_id: String,
    pub registration: Registration,
    /// The persons it may be, as the duplicate check found them.
    pub candidates: Vec<Uuid>,
    pub received_at: i64,
}

type HeldRow = (String, String, String, String, i64);

impl Store {
    /// The digest a submission from `source` was received with, stored or held.
    pub async fn submission_digest(&self, source: &str, id: &str) -> Result<Option<String>> {
        self.fetch_optional::<(String,)>(
            sql("SELECT digest FROM imported_submissions WHERE source = $1 AND submission_id = $2 \
                 UNION ALL SELECT digest FROM held_registrations WHERE source = $1 AND submission_id = $2")
            .bind(source)
            .bind(id),
        )
        .await
        .map(|row| row.map(|(d,)| d))
    }
}

impl Gate<'_> {
    /// Stores an encounter filled offline (its red flags ask for contact today: the visit may be
    /// days old) and remembers its submission, in one transaction. Callers ask
    /// [`SubmissionKey::seen`] first; a resend racing this one is answered from the key.
    pub async fn record_submitted_encounter(
        &self,
        person_id: Uuid,
        screenings: &[Screening],
        key: &SubmissionKey<'_>,
        notifier: &dyn crate::outbox::Notifier,
    ) -> Result<Received> {
        self.may_write(person_id).await?;
        let (batch, messages) = self.encounter_batch(person_id, screenings, false, None, notifier).await?;
        let encounter = screenings.first().map(|s| s.encounter_id);
        key.settle(self.store, key.store(self, &batch, person_id, encounter, &messages).await).await
    }

    /// Registers a person from a registration filled offline, remembering its submission.
    pub async fn register_submitted(&self, record: PersonRecord, key: &SubmissionKey<'_>) -> Result<Received> {
        let written = self.store_registration(record, Some(key)).await.map(drop);
        key.settle(self.store, written).await
    }

    /// Holds a registration that may name one of `candidates`, for a person to decide.
    pub async fn hold_registration(
        &self,
        registration: &Registration,
        candidates: &[Uuid],
        key: &SubmissionKey<'_>,
    ) -> Result<Received> {
        if !self.principal.has_any_role(hamroh_domain::access::CARE_ROLES) {
            return Err(StoreError::Forbidden("this account may not register people".into()));
        }
        let text = serde_json::to_string(registration).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let ids = serde_json::to_string(candidates).map_err(|e| StoreError::Conflict(e.to_string()))?;
        let mut event = NewAuditEvent::ok("hold", "registration", key.id);
        event.detail = Some(format!("candidates={}", candidates.len()));
        let mut tx = self.store.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        // Not held when the same submission was stored meanwhile (a resend that raced this one).
        let held = tx
            .execute(
                sql("INSERT INTO held_registrations (source, submission_id, digest, organisation_id, registration, \
                     candidates, received_at, received_by) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE NOT EXISTS \
                     (SELECT 1 FROM imported_submissions WHERE source = $1 AND submission_id = $2)")
                .bind(key.source)
                .bind(key.id)
                .bind(key.digest)
                .bind(self.principal.organisation_id)
                .bind(text)
                .bind(ids)
                .bind(now_millis())
                .bind(self.principal.user_id),
            )
            .await;
        let held = match held {
            Ok(n) => n,
            Err(e) => return key.settle(self.store, Err(e)).await,
        };
        if held == 0 {
            return Ok(key.seen(self.store).await?.unwrap_or(Received::Again));
        }
        crate::audit::append(&mut tx, &self.actor, &[&event]).await?;
        match tx.commit().await {
            Ok(()) => Ok(Received::Held),
            Err(e) => key.settle(self.store, Err(e)).await,
        }
    }

    /// The organisation's registrations waiting for a decision, oldest first; reading them is
    /// audited.
    pub async fn held_registrations(&self) -> Result<Vec<HeldRegistration>> {
        if !self.principal.has_any_role(hamroh_domain::access::CARE_ROLES) {
            return Err(StoreError::Forbidden("this account does not work with people's records".into()));
        }
        let rows: Vec<HeldRow> = self
            .store
            .fetch_all(
                sql("SELECT source, submission_id, registration, candidates, received_at FROM held_registrations \
                     WHERE organisation_id = $1 AND resolved_at IS NULL ORDER BY received_at, submission_id")
                .bind(self.principal.organisation_id),
            )
            .await?;
        let held: Vec<HeldRegistration> = rows.into_iter().filter_map(held_of).collect();
        let events: Vec<NewAuditEvent> =
            held.iter().map(|h| NewAuditEvent::ok("read", "held_registration", &h.submission_id)).collect();
        if !events.is_empty() {
            self.store.audit(&self.actor, &events).await?;
        }
        Ok(held)
    }

    /// One waiting registration of the organisation (`NotFound` when decided or elsewhere); the
    /// read is audited.
    pub async fn held_registration(&self, source: &str, id: &str) -> Result<HeldRegistration> {
        let held = self.held(source, id).await?;
        self.store.audit(&self.actor, &[NewAuditEvent::ok("read", "held_registration", id)]).await?;
        Ok(held)
    }

    async fn held(&self, source: &str, id: &str) -> Result<HeldRegistration> {
        if !self.principal.has_any_role(hamroh_domain::access::CARE_ROLES) {
            return Err(StoreError::Forbidden("this account does not work with people's records".into()));
        }
        let row: Option<HeldRow> = self
            .store
            .fetch_optional(
                sql("SELECT source, submission_id, registration, candidates, received_at FROM held_registrations \
                     WHERE source = $1 AND submission_id = $2 AND organisation_id = $3 AND resolved_at IS NULL")
                .bind(source)
                .bind(id)
                .bind(self.principal.organisation_id),
            )
            .await?;
        row.and_then(held_of).ok_or(StoreError::NotFound)
    }

    /// Decides a waiting registration: `record` registers it as a new person; `same` records it
    /// as about a person already registered (whom this principal may write), adding nothing to
    /// their record. Returns the person it is now about.
    pub async fn resolve_held(&self, source: &str, id: &str, decision: HeldDecision) -> Result<Uuid> {
        let held = self.held(source, id).await?;
        let digest = self.store.submission_digest(source, id).await?.ok_or(StoreError::NotFound)?;
        let person_id = match decision {
            HeldDecision::New(record) => {
                let record = self.store_registration(*record, None).await?;
                record.person.id
            }
            HeldDecision::Same(person_id) => {
                self.may_write(person_id).await?;
                person_id
            }
        };
        let mut event = NewAuditEvent::ok("resolve", "registration", &held.submission_id).person(person_id);
        event.detail = Some("held registration decided".into());
        let mut tx = self.store.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        let now = now_millis();
        let n = tx
            .execute(
                sql("UPDATE held_registrations SET resolved_at = $1, resolved_by = $2, person_id = $3 \
                     WHERE source = $4 AND submission_id = $5 AND resolved_at IS NULL")
                .bind(now)
                .bind(self.principal.user_id)
                .bind(person_id)
                .bind(source)
                .bind(id),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict("this registration was decided meanwhile".into()));
        }
        tx.execute(
            sql("INSERT INTO imported_submissions (source, submission_id, digest, person_id, encounter_id, \
                 imported_at, imported_by) VALUES ($1, $2, $3, $4, NULL, $5, $6)")
            .bind(source)
            .bind(id)
            .bind(digest)
            .bind(person_id)
            .bind(now)
            .bind(self.principal.user_id),
        )
        .await?;
        crate::audit::append(&mut tx, &self.actor, &[&event]).await?;
        tx.commit().await?;
        Ok(person_id)
    }
}

/// How a waiting registration is decided.
#[derive(Debug, Clone)]
pub enum HeldDecision {
    /// A new person: the registration, validated.
    New(Box<PersonRecord>),
    /// A person already registered.
    Same(Uuid),
}

fn held_of((source, submission_id, registration, candidates, received_at): HeldRow) -> Option<HeldRegistration> {
    Some(HeldRegistration {
        source,
        submission_id,
        registration: serde_json::from_str(&registration).ok()?,
        candidates: serde_json::from_str(&candidates).ok()?,
        received_at,
    })
}
