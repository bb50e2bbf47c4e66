//! The gate: every read and write of a person's record goes through here. It asks the domain's
//! access rules ([`hamroh_domain::access`]), records the read, write or refusal in the audit trail,
//! and answers a refusal exactly like a record that does not exist, so that nobody learns that a
//! person is registered elsewhere.

use hamroh_domain::access::{
    Access, PersonFacts, Principal, ReferralAccess, person_access, referral_access, referral_is_open,
    restricted_step_allowed,
};
use hamroh_domain::consent::ConsentScope;
use hamroh_domain::model::{Batch, ConsentRecord, Decision, FollowUp, Person, PersonRecord, Screening};
use hamroh_domain::names::Query;
use hamroh_domain::org::Role;
use hamroh_domain::referral::ReferralStatus;
use std::collections::HashMap;

use uuid::Uuid;

use crate::audit::{Actor, AuditEvent, NewAuditEvent};
use crate::clinical::{PersonSummary, ReferralLine};
use crate::{Result, Store, StoreError, now_millis};

/// How often a registration or a referral is stored again under a fresh code when its code is taken.
const REGISTER_ATTEMPTS: u32 = 3;

/// A fresh referral code, `R-XXXX-XXXX`.
fn referral_code() -> String {
    hamroh_domain::registration::code_of("R", Uuid::now_v7().as_u64_pair().1)
}

/// Consent decisions and referrals (with the receiving sector) of a set of persons, as read for
/// [`Store::registered_persons_facts`].
type FactRows = (Vec<(Uuid, String, bool)>, Vec<(Uuid, Uuid, String, String)>);

/// A store seen through one principal's rights.
pub struct Gate<'a> {
    pub(crate) store: &'a Store,
    pub(crate) principal: &'a Principal,
    pub(crate) actor: Actor,
}

impl Store {
    pub fn gate<'a>(&'a self, principal: &'a Principal, address: Option<String>) -> Gate<'a> {
        Gate { store: self, principal, actor: Actor::of(principal, address) }
    }

    /// What the access rules need to know about a person, or `None` if there is no such person.
    pub async fn person_facts(&self, person_id: Uuid) -> Result<Option<PersonFacts>> {
        self.one_persons_facts(person_id, None).await
    }

    async fn one_persons_facts(&self, person_id: Uuid, viewer_org: Option<Uuid>) -> Result<Option<PersonFacts>> {
        let registered_by: Option<Uuid> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT organisation_id FROM persons WHERE id = $1").bind(person_id).fetch_optional(pool).await?
        });
        let Some(registered_by) = registered_by else { return Ok(None) };
        Ok(self.facts_read(&[(person_id, registered_by)], viewer_org).await?.remove(&person_id))
    }

    /// [`Store::person_facts`] for many persons in three queries.
    pub async fn person_facts_many(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, PersonFacts>> {
        let mut registered: Vec<(Uuid, Uuid)> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(FACT_CHUNK) {
            let rows: Vec<(Uuid, Uuid)> = with_pool!(self, pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT id, organisation_id FROM persons WHERE id IN (");
                crate::sql::push_ids(&mut q, chunk);
                q.build_query_as().fetch_all(pool).await?
            });
            registered.extend(rows);
        }
        self.registered_persons_facts(&registered).await
    }

    /// [`Store::person_facts`] of persons whose registering organisation is known (search
    /// results carry it): (person, registering organisation) pairs, in two queries.
    pub async fn registered_persons_facts(&self, registered: &[(Uuid, Uuid)]) -> Result<HashMap<Uuid, PersonFacts>> {
        self.facts_read(registered, None).await
    }

    /// [`Store::registered_persons_facts`] as far as they decide for a viewer of `viewer_org`:
    /// referrals open access only to another organisation's persons, so those of persons that
    /// `viewer_org` registered are not read (their `open_referrals` stay empty). Most persons a
    /// clinic reads are its own, so this saves a query and its pages on most reads.
    pub async fn facts_deciding_for(
        &self,
        viewer_org: Uuid,
        registered: &[(Uuid, Uuid)],
    ) -> Result<HashMap<Uuid, PersonFacts>> {
        self.facts_read(registered, Some(viewer_org)).await
    }

    async fn facts_read(
        &self,
        registered: &[(Uuid, Uuid)],
        viewer_org: Option<Uuid>,
    ) -> Result<HashMap<Uuid, PersonFacts>> {
        let mut out: HashMap<Uuid, PersonFacts> = registered
            .iter()
            .map(|(id, org)| {
                (*id, PersonFacts { registered_by: *org, consents: Vec::new(), open_referrals: Vec::new() })
            })
            .collect();
        for chunk in registered.chunks(FACT_CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
            let others: Vec<Uuid> =
                chunk.iter().filter(|(_, org)| Some(*org) != viewer_org).map(|(id, _)| *id).collect();
            let (decisions, referrals): FactRows = with_pool!(self, pool => {
                let mut q = sqlx::QueryBuilder::new("SELECT person_id, scope, given FROM consents WHERE person_id IN (");
                crate::sql::push_ids(&mut q, &ids);
                q.push(" ORDER BY recorded_at, id");
                let decisions = q.build_query_as().fetch_all(pool).await?;
                let referrals = if others.is_empty() {
                    Vec::new()
                } else {
                    // Only open referrals grant access; a long history of closed ones is not read.
                    let mut q = sqlx::QueryBuilder::new(concat!(
                        "SELECT r.person_id, r.to_organisation_id, o.sector, r.status FROM referrals r \
                         JOIN organisations o ON o.id = r.to_organisation_id WHERE r.status NOT IN ",
                        ended_referral_statuses!(),
                        " AND r.person_id IN ("
                    ));
                    crate::sql::push_ids(&mut q, &others);
                    q.build_query_as().fetch_all(pool).await?
                };
                (decisions, referrals)
            });
            for (id, scope, given) in decisions {
                let Some(facts) = out.get_mut(&id) else { continue };
                let scope: ConsentScope = scope.parse()?;
                facts.consents.retain(|s| *s != scope);
                if given {
                    facts.consents.push(scope);
                }
            }
            for (id, org, sector, status) in referrals {
                let Some(facts) = out.get_mut(&id) else { continue };
                if referral_is_open(status.parse::<ReferralStatus>()?) {
                    facts.open_referrals.push((org, sector.parse()?));
                }
            }
        }
        Ok(out)
    }
}

/// Leave to write a person's record, given by [`Gate::person_to_write`] and only there. It
/// carries the audit events of the person's read, written in the same commit as the records
/// ([`Gate::record_encounter`]), or alone when nothing is written ([`Gate::nothing_written`]).
#[derive(Debug)]
#[must_use = "the person's read is audited when the grant is used or given back"]
pub struct WriteGrant {
    person_id: Uuid,
    reads: Vec<NewAuditEvent>,
}

/// Persons per query of [`Store::person_facts_many`]: the list of ids is bound, one value each.
const FACT_CHUNK: usize = 500;

/// How access was granted, as an audit event's detail.
fn via(access: Access) -> String {
    format!("via={}", serde_json::to_value(access).unwrap_or_default().as_str().unwrap_or(""))
}

/// The audit events of reading these parts of a person's record, by the access that allowed it.
/// A person a worklist may name: id, code, given and family name, registering organisation, and
/// whether consent to care is in force.
type NamedRow = (Uuid, String, Option<String>, Option<String>, Uuid, bool);

fn reads_of(person_id: Uuid, access: Access, parts: &[&'static str]) -> Vec<NewAuditEvent> {
    let via = via(access);
    parts
        .iter()
        .map(|what| {
            let mut e = NewAuditEvent::ok("read", what, person_id).person(person_id);
            e.detail = Some(via.clone());
            e
        })
        .collect()
}

impl Gate<'_> {
    pub fn principal(&self) -> &Principal {
        self.principal
    }

    /// What decides this principal's access to a person, or `None` if there is no such person.
    async fn facts(&self, person_id: Uuid) -> Result<Option<PersonFacts>> {
        self.store.one_persons_facts(person_id, Some(self.principal.organisation_id)).await
    }

    /// Decides, and records a refusal. `Err(NotFound)` for a missing or refused person.
    async fn check(&self, person_id: Uuid, write: bool, what: &'static str) -> Result<(Access, PersonFacts)> {
        let Some(facts) = self.facts(person_id).await? else { return Err(StoreError::NotFound) };
        self.judge(person_id, facts, write, what).await
    }

    /// A person's record and what the access rules need to know, read together, after the
    /// decision to read it (a refusal recorded and answered as `NotFound`).
    async fn read_checked(&self, person_id: Uuid, what: &'static str) -> Result<(Person, Access, PersonFacts)> {
        let person = self.store.person(person_id).await?.ok_or(StoreError::NotFound)?;
        let facts = self
            .store
            .facts_deciding_for(self.principal.organisation_id, &[(person_id, person.organisation_id)])
            .await?
            .remove(&person_id)
            .ok_or(StoreError::NotFound)?;
        let (access, facts) = self.judge(person_id, facts, false, what).await?;
        Ok((person, access, facts))
    }

    /// Applies the access rules to a person's facts, and records a refusal.
    async fn judge(
        &self,
        person_id: Uuid,
        facts: PersonFacts,
        write: bool,
        what: &'static str,
    ) -> Result<(Access, PersonFacts)> {
        let access = person_access(self.principal, &facts, write);
        if !access.allowed() {
            let event = NewAuditEvent {
                action: if write { "write" } else { "read" },
                entity: what,
                entity_id: Some(person_id.to_string()),
                person_id: Some(person_id),
                outcome: "denied",
                detail: None,
            };
            self.store.audit(&self.actor, &[event]).await?;
            return Err(StoreError::NotFound);
        }
        Ok((access, facts))
    }

    async fn record_read(&self, person_id: Uuid, what: &'static str, access: Access) -> Result<()> {
        self.store.audit(&self.actor, &reads_of(person_id, access, &[what])).await
    }

    /// A person's record, with the read audited.
    pub async fn person(&self, person_id: Uuid) -> Result<Person> {
        let (person, access, _) = self.read_checked(person_id, "person").await?;
        self.record_read(person_id, "person", access).await?;
        Ok(person)
    }

    /// A person's record and the consent scopes in force, after one access check, with both reads
    /// audited in one commit.
    pub async fn person_with_consents(&self, person_id: Uuid) -> Result<(Person, Vec<ConsentScope>)> {
        self.person_record(person_id, false).await.map(|(p, c, _)| (p, c))
    }

    /// The person, the consents in force and (with `episodes`) the stays abroad, migration and
    /// work-injury history: the person page's reads, audited in one commit.
    pub async fn person_record(
        &self,
        person_id: Uuid,
        episodes: bool,
    ) -> Result<(Person, Vec<ConsentScope>, Vec<crate::EpisodeLine>)> {
        let (person, access, facts) = self.read_checked(person_id, "person").await?;
        let stays = if episodes { self.store.episodes_of(person_id).await? } else { Vec::new() };
        let read: &[&str] = if episodes { &["person", "consent", "migration_episode"] } else { &["person", "consent"] };
        self.store.audit(&self.actor, &reads_of(person_id, access, read)).await?;
        Ok((person, facts.consents, stays))
    }

    /// Everything the person page shows of a person's record, after one access decision, with
    /// every read audited in one commit: the person, the consents in force, the stays abroad, the
    /// screenings, follow-ups and referrals, and each encounter's decision in force.
    pub async fn person_page(&self, person_id: Uuid) -> Result<PersonPageRecord> {
        let (person, access, facts) = self.read_checked(person_id, "person").await?;
        let episodes = self.store.episodes_of(person_id).await?;
        let screenings = self.store.screenings_of(person_id).await?;
        let follow_ups = self.store.follow_ups_of(person_id).await?;
        let referrals = self.store.referrals_of(person_id).await?;
        let choices = self.store.decision_choices_of(person_id).await?;
        let read = ["person", "consent", "migration_episode", "screening", "decision", "timeline"];
        self.store.audit(&self.actor, &reads_of(person_id, access, &read)).await?;
        Ok(PersonPageRecord { person, consents: facts.consents, episodes, screenings, follow_ups, referrals, choices })
    }

    /// Keeps a person's record current (phone, district, a later stay abroad, a work injury), for
    /// a principal who may write it; the fields that changed.
    pub async fn change_record(
        &self,
        person_id: Uuid,
        change: &hamroh_domain::record_update::RecordChange,
    ) -> Result<Vec<crate::FieldChange>> {
        self.check(person_id, true, "person").await?;
        self.store.change_record(&self.actor, person_id, change, Some(self.principal.user_id)).await
    }

    /// The changes made to a person's record since registration, with the values they replaced;
    /// the read audited.
    pub async fn record_changes(&self, person_id: Uuid) -> Result<Vec<crate::FieldChange>> {
        let (access, _) = self.check(person_id, false, "record_change").await?;
        let changes = self.store.record_changes_of(person_id).await?;
        self.record_read(person_id, "record_change", access).await?;
        Ok(changes)
    }

    /// A person's screenings, with the read audited.
    pub async fn screenings_of(&self, person_id: Uuid) -> Result<Vec<Screening>> {
        let (access, _) = self.check(person_id, false, "screening").await?;
        let screenings = self.store.screenings_of(person_id).await?;
        self.record_read(person_id, "screening", access).await?;
        Ok(screenings)
    }

    /// A person's audit trail: for coordinators and administrators who may see the person.
    pub async fn audit_trail(&self, person_id: Uuid) -> Result<Vec<AuditEvent>> {
        if !self.principal.has_any_role(&[Role::Coordinator, Role::Admin]) {
            self.check(person_id, false, "audit_trail").await?;
            let event = NewAuditEvent {
                action: "read",
                entity: "audit_trail",
                entity_id: Some(person_id.to_string()),
                person_id: Some(person_id),
                outcome: "denied",
                detail: Some("role".into()),
            };
            self.store.audit(&self.actor, &[event]).await?;
            return Err(StoreError::NotFound);
        }
        let (access, _) = self.check(person_id, false, "audit_trail").await?;
        let trail = self.store.audit_of_person(person_id, 500).await?;
        self.record_read(person_id, "audit_trail", access).await?;
        Ok(trail)
    }

    /// Records a consent decision. The registering organisation may always record one (so that a
    /// person who withdrew consent to care can give it again); others need access to the record.
    /// Withdrawal takes effect at once: the next request is judged by it.
    pub async fn record_consent(
        &self,
        person_id: Uuid,
        scope: ConsentScope,
        given: bool,
        how: Option<hamroh_domain::consent::ConsentMode>,
    ) -> Result<ConsentRecord> {
        let Some(facts) = self.facts(person_id).await? else { return Err(StoreError::NotFound) };
        let registering = facts.registered_by == self.principal.organisation_id
            && self.principal.has_any_role(hamroh_domain::access::CARE_ROLES)
            && self.principal.has_scope(hamroh_domain::access::Scope::PersonsWrite);
        if !registering {
            self.judge(person_id, facts, true, "consent").await?;
        }
        let record = ConsentRecord {
            id: Uuid::now_v7(),
            person_id,
            scope,
            given,
            recorded_at: now_millis(),
            recorded_by: Some(self.principal.user_id),
            how,
        };
        self.store.insert_consent(&self.actor, &record).await?;
        Ok(record)
    }

    /// Persons this principal may see that match the query; each one shown is an audited read.
    pub async fn search(&self, query: &Query, limit: i64) -> Result<Vec<PersonSummary>> {
        let candidates = self.store.search_candidates(self.principal.organisation_id, query, limit).await?;
        self.visible(candidates, "search").await
    }

    /// Likely duplicates of a registration, among the persons this principal may see.
    pub async fn likely_duplicates(&self, person: &Person) -> Result<Vec<PersonSummary>> {
        let candidates = self
            .store
            .likely_duplicates(
                self.principal.organisation_id,
                person.family_name.as_deref(),
                person.given_name.as_deref(),
                person.birth_year.get(),
                person.phone.as_ref().map(|p| p.as_str()),
            )
            .await?;
        self.visible(candidates, "duplicate_check").await
    }

    async fn visible(&self, candidates: Vec<PersonSummary>, why: &str) -> Result<Vec<PersonSummary>> {
        let mut shown = Vec::new();
        // The clinic's own persons are decided by their care consent, which the candidate's row
        // carries; only the others' facts are read.
        let org = self.principal.organisation_id;
        let others: Vec<(Uuid, Uuid)> =
            candidates.iter().filter(|c| c.organisation_id != org).map(|c| (c.id, c.organisation_id)).collect();
        let others_facts = self.store.facts_deciding_for(org, &others).await?;
        for c in candidates {
            let facts = if c.organisation_id == org {
                let consents = if c.care_consent { vec![ConsentScope::Care] } else { Vec::new() };
                PersonFacts { registered_by: org, consents, open_referrals: Vec::new() }
            } else {
                let Some(facts) = others_facts.get(&c.id) else { continue };
                facts.clone()
            };
            if person_access(self.principal, &facts, false).allowed() {
                shown.push(c);
            }
        }
        if !shown.is_empty() {
            let event = NewAuditEvent::shown(why, shown.iter().map(|c| c.code.as_str()));
            self.store.audit(&self.actor, &[event]).await?;
        }
        Ok(shown)
    }

    /// Registers a person for the principal's organisation, with the episodes and consents given.
    pub async fn register(&self, record: PersonRecord) -> Result<PersonRecord> {
        self.store_registration(record, None).await
    }

    /// Registers a person; with `from`, remembers the submission that brought the registration,
    /// in the same transaction.
    pub(crate) async fn store_registration(
        &self,
        mut record: PersonRecord,
        from: Option<&crate::submissions::SubmissionKey<'_>>,
    ) -> Result<PersonRecord> {
        let allowed = self.principal.has_any_role(hamroh_domain::access::CARE_ROLES)
            && self.principal.has_scope(hamroh_domain::access::Scope::PersonsWrite)
            && record.person.organisation_id == self.principal.organisation_id;
        if !allowed {
            return Err(StoreError::Forbidden("this account may not register people".into()));
        }
        // A person code is 40 bits of the id: at national scale a fresh id can draw a taken one.
        // Nothing was written then, so the same record is stored again under another id.
        let mut attempts = 0;
        loop {
            let batch = Batch { persons: vec![record.clone()], ..Batch::default() };
            let written = match from {
                None => self.store.insert_batch(&self.actor, &batch).await,
                Some(key) => key.store(self, &batch, record.person.id, None, &[]).await,
            };
            match written {
                Err(e) if attempts < REGISTER_ATTEMPTS && e.is_unique_violation_on("persons", "code") => {
                    attempts += 1;
                    hamroh_domain::registration::reissue(&mut record, Uuid::now_v7());
                }
                other => return other.map(|()| record),
            }
        }
    }

    /// A person's record, read to record an encounter for them, and leave to write `what`
    /// decided on the same facts, so that a request makes one access check, not two. A refusal to
    /// write is recorded and answered `NotFound` before the request's values are looked at. The
    /// read is audited with the write, in one commit, or by [`Gate::nothing_written`]: either
    /// happens before the caller is answered.
    pub async fn person_to_write(&self, person_id: Uuid, what: &'static str) -> Result<(Person, WriteGrant)> {
        let (person, access, facts) = self.read_checked(person_id, "person").await?;
        self.judge(person_id, facts, true, what).await?;
        Ok((person, WriteGrant { person_id, reads: reads_of(person_id, access, &["person"]) }))
    }

    /// Audits the read a grant carries when nothing is written with it (the answers were
    /// refused, the form is shown again).
    pub async fn nothing_written(&self, grant: WriteGrant) -> Result<()> {
        self.store.audit(&self.actor, &grant.reads).await
    }

    /// Stores one encounter's screenings (computed by the engine) for the person `grant` lets
    /// this principal write. `in_person` is false for an encounter captured without a
    /// face-to-face visit (the API, an import): its red flags ask to contact the person today. A
    /// red flag tells the organisation's contacts through the outbox, in the same transaction.
    /// The person's read (the grant's) is audited in the same commit; if the write fails, alone.
    pub async fn record_encounter(
        &self,
        grant: WriteGrant,
        screenings: &[Screening],
        in_person: bool,
        self_harm_not_asked: Option<hamroh_domain::safety::NotAsked>,
        notifier: &dyn crate::outbox::Notifier,
    ) -> Result<()> {
        let person_id = grant.person_id;
        let written = match self.encounter_batch(person_id, screenings, in_person, self_harm_not_asked, notifier).await
        {
            Ok((batch, messages)) => {
                self.store.insert_batch_with_outbox_and_events(&self.actor, &batch, &messages, &grant.reads).await
            }
            Err(e) => Err(e),
        };
        if written.is_err() {
            // The write's error is the answer; the read is still recorded if the store can.
            if let Err(e) = self.nothing_written(grant).await {
                tracing::warn!(error = %e, "a person's read could not be audited after a failed write");
            }
        }
        written
    }

    /// An encounter's records and the alerts its red flags send, once its writer was let in.
    pub(crate) async fn encounter_batch(
        &self,
        person_id: Uuid,
        screenings: &[Screening],
        in_person: bool,
        self_harm_not_asked: Option<hamroh_domain::safety::NotAsked>,
        notifier: &dyn crate::outbox::Notifier,
    ) -> Result<(Batch, Vec<crate::outbox::OutboxMessage>)> {
        if screenings.iter().any(|s| s.person_id != person_id) {
            return Err(StoreError::Conflict("every screening must belong to the person".into()));
        }
        let mut batch = Batch { screenings: screenings.to_vec(), ..Batch::default() };
        if let (Some(reason), Some(s)) = (self_harm_not_asked, screenings.first()) {
            batch.self_harm_not_asked.push((s.encounter_id, reason));
        }
        if !in_person {
            batch.remote_encounters = screenings.iter().map(|s| s.encounter_id).collect();
            batch.remote_encounters.dedup();
        }
        let mut flags: Vec<&String> = screenings.iter().flat_map(|s| &s.outcome.flags).collect();
        flags.sort();
        flags.dedup();
        let mut messages = Vec::new();
        if !flags.is_empty() {
            let contacts = self.store.contacts(Some(self.principal.organisation_id), None).await?;
            let person_code = self.store.person_codes([person_id]).await?.remove(&person_id).unwrap_or_default();
            for flag in flags {
                let alert = crate::outbox::Alert {
                    kind: crate::outbox::AlertKind::Raised,
                    person_code: person_code.clone(),
                    flag: flag.clone(),
                };
                messages.extend(notifier.alert(&alert, &contacts));
            }
        }
        Ok((batch, messages))
    }

    /// Records the safety assessment of an encounter's red flag (or why none was possible); it
    /// answers the person's waiting flags of that kind. An assessment that finds imminent risk
    /// tells the coordinators at once. `Conflict` when the encounter raised no such flag.
    pub async fn assess(
        &self,
        encounter_id: Uuid,
        flag: &str,
        record: hamroh_domain::safety::SafetyRecord,
        notifier: &dyn crate::outbox::Notifier,
    ) -> Result<hamroh_domain::model::SafetyAssessment> {
        let screenings = self.store.encounter_screenings(encounter_id).await?;
        let first = screenings.first().ok_or(StoreError::NotFound)?;
        let person_id = first.person_id;
        self.check(person_id, true, "safety_assessment").await?;
        if !screenings.iter().any(|s| s.outcome.flags.iter().any(|f| f == flag)) {
            return Err(StoreError::Conflict(format!("this encounter raised no `{flag}` flag to assess")));
        }
        let imminent = matches!(&record, hamroh_domain::safety::SafetyRecord::Assessed(a) if a.imminent_risk);
        let assessment = hamroh_domain::model::SafetyAssessment {
            id: Uuid::now_v7(),
            encounter_id,
            person_id,
            organisation_id: self.principal.organisation_id,
            flag: flag.to_owned(),
            record,
            user_id: Some(self.principal.user_id),
            at: now_millis(),
        };
        let messages = if imminent {
            let person_code = self.store.person_codes([person_id]).await?.remove(&person_id).unwrap_or_default();
            let alert =
                crate::outbox::Alert { kind: crate::outbox::AlertKind::Escalated, person_code, flag: flag.to_owned() };
            notifier.alert(&alert, &self.store.coordinator_contacts().await?)
        } else {
            Vec::new()
        };
        let batch = Batch { safety_assessments: vec![assessment.clone()], ..Batch::default() };
        self.store.insert_batch_with_outbox(&self.actor, &batch, &messages).await?;
        Ok(assessment)
    }

    /// A person's safety assessments, read audited.
    pub async fn safety_assessments(&self, person_id: Uuid) -> Result<Vec<hamroh_domain::model::SafetyAssessment>> {
        let (access, _) = self.check(person_id, false, "safety_assessment").await?;
        let out = self.store.safety_assessments_of(person_id).await?;
        self.record_read(person_id, "safety_assessment", access).await?;
        Ok(out)
    }

    /// The names of the persons among `ids` that this principal's organisation registered and
    /// whose consent to care is in force (the worklist shows them), each read audited.
    pub async fn own_names(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, String>> {
        let mut names = HashMap::new();
        if !self.principal.has_any_role(hamroh_domain::access::CARE_ROLES) {
            return Ok(names);
        }
        let mut codes = Vec::new();
        for chunk in ids.chunks(FACT_CHUNK) {
            // Looked up by id only, the rest checked here: with the organisation in the WHERE
            // clause SQLite read the organisation's persons through its index instead (67 ms for
            // 100 ids at 200,000 persons, against 1 ms).
            let rows: Vec<NamedRow> = with_pool!(self.store, pool => {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT id, code, given_name, family_name, organisation_id, care_consent FROM persons WHERE id IN (",
                );
                crate::sql::push_ids(&mut q, chunk);
                q.build_query_as().fetch_all(pool).await?
            });
            let own = rows.into_iter().filter(|r| r.4 == self.principal.organisation_id && r.5);
            for (id, code, given, family, _, _) in own {
                let name = [given, family].into_iter().flatten().collect::<Vec<_>>().join(" ");
                if !name.is_empty() {
                    names.insert(id, name);
                    codes.push(code);
                }
            }
        }
        if !codes.is_empty() {
            self.store.audit(&self.actor, &[NewAuditEvent::shown("worklist", &codes)]).await?;
        }
        Ok(names)
    }

    /// A person's follow-ups, read audited.
    pub async fn follow_ups(&self, person_id: Uuid) -> Result<Vec<FollowUp>> {
        let (access, _) = self.check(person_id, false, "follow_up").await?;
        let out = self.store.follow_ups_of(person_id).await?;
        self.record_read(person_id, "follow_up", access).await?;
        Ok(out)
    }

    /// Whether this principal may write the person's record (`NotFound`, audited, if not): asked
    /// before a request's values are checked, so that a refusal never depends on them.
    pub async fn may_write(&self, person_id: Uuid) -> Result<()> {
        self.check(person_id, true, "person").await.map(drop)
    }

    /// The person of a follow-up this principal may write (`NotFound` otherwise).
    pub async fn writable_follow_up(&self, id: Uuid) -> Result<Uuid> {
        let person_id = self.store.follow_up_person(id).await?.ok_or(StoreError::NotFound)?;
        self.check(person_id, true, "follow_up").await?;
        Ok(person_id)
    }

    /// Adds a follow-up to a person this principal may write.
    pub async fn add_follow_up(&self, follow_up: &FollowUp) -> Result<()> {
        self.check(follow_up.person_id, true, "follow_up").await?;
        let batch = Batch { follow_ups: vec![follow_up.clone()], ..Batch::default() };
        self.store.insert_batch(&self.actor, &batch).await
    }

    /// Completes, cancels or reschedules an open follow-up of a person this principal may write.
    pub async fn change_follow_up(&self, id: Uuid, change: &crate::referrals::FollowUpChange) -> Result<FollowUp> {
        let person_id = self.store.follow_up_person(id).await?.ok_or(StoreError::NotFound)?;
        self.check(person_id, true, "follow_up").await?;
        self.store.change_follow_up(&self.actor, id, person_id, change).await?;
        self.store.follow_up(id).await?.ok_or(StoreError::NotFound)
    }

    /// An encounter's decisions, the first first (amendments keep the history).
    pub async fn decisions(&self, encounter_id: Uuid) -> Result<Vec<Decision>> {
        let decisions = self.store.decisions_of(encounter_id).await?;
        if let Some(d) = decisions.first() {
            let (access, _) = self.check(d.person_id, false, "decision").await?;
            self.record_read(d.person_id, "decision", access).await?;
        }
        Ok(decisions)
    }

    /// An encounter's screenings, the decision taken on it, if any, and what the pathway rules
    /// use of the person's record.
    pub async fn encounter(&self, encounter_id: Uuid) -> Result<EncounterRecord> {
        let screenings = self.store.encounter_screenings(encounter_id).await?;
        let person_id = screenings.first().map(|s| s.person_id).ok_or(StoreError::NotFound)?;
        let (access, _) = self.check(person_id, false, "screening").await?;
        self.record_read(person_id, "screening", access).await?;
        Ok(EncounterRecord {
            decision: self.store.decision_for(encounter_id).await?,
            circumstances: self.store.circumstances_of(person_id).await?,
            screenings,
        })
    }

    /// Records the clinician's decision on an encounter, with the follow-ups it sets.
    pub async fn decide(&self, decision: &Decision, follow_ups: &[FollowUp]) -> Result<()> {
        self.check(decision.person_id, true, "decision").await?;
        let batch = Batch { decisions: vec![decision.clone()], follow_ups: follow_ups.to_vec(), ..Batch::default() };
        self.store.insert_batch(&self.actor, &batch).await
    }

    /// A person's follow-ups and referrals, for the timeline.
    pub async fn timeline(&self, person_id: Uuid) -> Result<(Vec<FollowUp>, Vec<ReferralLine>)> {
        let (access, _) = self.check(person_id, false, "timeline").await?;
        let follow_ups = self.store.follow_ups_of(person_id).await?;
        let referrals = self.store.referrals_of(person_id).await?;
        self.record_read(person_id, "timeline", access).await?;
        Ok((follow_ups, referrals))
    }

    /// A person's referrals with every step, for an export of the record.
    pub async fn referrals_with_steps(&self, person_id: Uuid) -> Result<Vec<hamroh_domain::model::Referral>> {
        let (access, _) = self.check(person_id, false, "referral").await?;
        let referrals = self.store.referrals_with_steps(person_id).await?;
        self.record_read(person_id, "referral", access).await?;
        Ok(referrals)
    }

    /// Refers a person to a service. Needs write access to the person, the person's consent to
    /// share with the service's sector or organisation, and a service that covers the person's
    /// district.
    pub async fn refer(
        &self,
        request: &ReferralRequest,
        notifier: &dyn crate::outbox::Notifier,
    ) -> Result<hamroh_domain::model::Referral> {
        self.refer_drawing(request, notifier, referral_code).await
    }

    /// [`Gate::refer`], with each referral code drawn by `draw`: a test draws a taken one.
    #[doc(hidden)]
    pub async fn refer_drawing(
        &self,
        request: &ReferralRequest,
        notifier: &dyn crate::outbox::Notifier,
        mut draw: impl FnMut() -> String + Send,
    ) -> Result<hamroh_domain::model::Referral> {
        let (_, facts) = self.check(request.person_id, true, "referral").await?;
        let person = self.store.person(request.person_id).await?.ok_or(StoreError::NotFound)?;
        let service = self
            .store
            .services()
            .await?
            .into_iter()
            .find(|s| s.id == request.service_id)
            .ok_or(StoreError::Refused { code: "referral_unknown_service", message: "no such service".into() })?;
        let consented = facts.consents.contains(&ConsentScope::Sector(service.sector))
            || facts.consents.contains(&ConsentScope::Organisation(service.organisation_id));
        if !consented {
            return Err(StoreError::Refused {
                code: "referral_consent_missing",
                message: format!(
                    "the person has not consented to sharing with {} services (consent scope sector:{})",
                    service.sector, service.sector
                ),
            });
        }
        if !service.districts.iter().any(|d| d == person.district.as_str()) {
            return Err(StoreError::Refused {
                code: "referral_district_not_covered",
                message: format!(
                    "{} does not cover the person's district ({})",
                    service.name,
                    person.district.as_str()
                ),
            });
        }
        let now = now_millis();
        let due = request.today
            + jiff::Span::new().days(hamroh_domain::referral::due_in_days(request.urgency, service.response_days));
        let mut referral = hamroh_domain::model::Referral {
            id: Uuid::now_v7(),
            code: draw(),
            person_id: request.person_id,
            from_organisation_id: self.principal.organisation_id,
            from_user_id: Some(self.principal.user_id),
            service_id: service.id,
            to_organisation_id: service.organisation_id,
            screening_id: request.screening_id,
            reason: request.reason.clone(),
            urgency: request.urgency,
            due_date: due,
            status: ReferralStatus::Sent,
            note: request.note.clone(),
            created_at: now,
            events: vec![hamroh_domain::model::ReferralEvent {
                from_status: None,
                to_status: ReferralStatus::Sent,
                at: now,
                by_user_id: Some(self.principal.user_id),
                reason: None,
                barrier: None,
                note: None,
            }],
        };
        let contacts = if service.uses_hamroh {
            self.store.contacts(Some(service.organisation_id), None).await?
        } else {
            Vec::new()
        };
        let mut attempts = 0;
        loop {
            let notice = crate::outbox::ReferralNotice {
                referral_id: referral.id,
                code: referral.code.clone(),
                service: service.name.clone(),
                urgency: referral.urgency,
                due_date: referral.due_date.to_string(),
                status: referral.status,
            };
            let messages = notifier.compose(&notice, crate::outbox::NoticeKind::Received, &contacts);
            // Like a person code, a referral code is 40 random bits: a taken one is drawn again.
            match self.store.add_referral(&self.actor, &referral, &messages).await {
                Err(e) if attempts < REGISTER_ATTEMPTS && e.is_unique_violation_on("referrals", "code") => {
                    attempts += 1;
                    referral.code = draw();
                }
                other => return other.map(|()| referral),
            }
        }
    }

    /// A referral, for the sending or the receiving organisation only, as the person's consent
    /// allows (read audited): see [`hamroh_domain::access::referral_access`].
    pub async fn referral(&self, id: Uuid) -> Result<crate::ReferralDetail> {
        self.referral_as(id, false).await.map(|(detail, _)| detail)
    }

    /// A referral as a coordinator chasing it across organisations sees it: the parties, the
    /// service's contact, the dates and the steps, without clinical content or who took a step.
    /// The read is audited against the person.
    pub async fn referral_summary(&self, id: Uuid) -> Result<crate::ReferralDetail> {
        if !self.principal.has_role(Role::Coordinator) {
            return Err(StoreError::Forbidden("only coordinators see escalated referrals".into()));
        }
        let mut detail = self.store.referral_detail(id).await?.ok_or(StoreError::NotFound)?.without_clinical_content();
        for line in &mut detail.history {
            line.by_user = None;
        }
        let event = NewAuditEvent::ok("read", "referral_summary", id).person(detail.person_id);
        self.store.audit(&self.actor, &[event]).await?;
        Ok(detail)
    }

    /// The referral and the access that let it through, for reading or (with `write`) stepping.
    pub(crate) async fn referral_as(&self, id: Uuid, write: bool) -> Result<(crate::ReferralDetail, ReferralAccess)> {
        let detail = self.store.referral_detail(id).await?.ok_or(StoreError::NotFound)?;
        let facts = self.store.person_facts(detail.person_id).await?.ok_or(StoreError::NotFound)?;
        let access = referral_access(self.principal, &facts, &detail.parties(), write);
        let mut event = NewAuditEvent::ok("read", "referral", id).person(detail.person_id);
        match access {
            ReferralAccess::Denied => {
                event.outcome = "denied";
                self.store.audit(&self.actor, &[event]).await?;
                Err(StoreError::NotFound)
            }
            ReferralAccess::Restricted => {
                event.detail = Some("restricted".into());
                self.store.audit(&self.actor, &[event]).await?;
                Ok((detail.without_clinical_content(), access))
            }
            ReferralAccess::Full => {
                self.store.audit(&self.actor, &[event]).await?;
                Ok((detail, access))
            }
        }
    }

    /// Moves a referral one step, as the diagram and the acting side allow.
    pub async fn transition(
        &self,
        id: Uuid,
        step: &hamroh_domain::referral::Transition,
        notifier: &dyn crate::outbox::Notifier,
    ) -> Result<crate::ReferralDetail> {
        use hamroh_domain::referral::{Side, apply};
        let (detail, access) = self.referral_as(id, true).await?;
        if access == ReferralAccess::Restricted && !restricted_step_allowed(step) {
            return Err(StoreError::Refused {
                code: "consent_withdrawn",
                message: "the person withdrew consent to share with your organisation: the referral can only be \
                          declined, cancelled or closed"
                    .into(),
            });
        }
        let side =
            if detail.to_organisation_id == self.principal.organisation_id { Side::Receiver } else { Side::Sender };
        let to = apply(detail.status, step, side, detail.receiver_uses_hamroh)
            .map_err(|e| StoreError::Refused { code: "referral_illegal_step", message: e.to_string() })?;
        let event = hamroh_domain::model::ReferralEvent {
            from_status: Some(detail.status),
            to_status: to,
            at: now_millis(),
            by_user_id: Some(self.principal.user_id),
            reason: step.reason().map(str::to_owned),
            barrier: step.barrier(),
            note: None,
        };
        let outcome = match step {
            hamroh_domain::referral::Transition::Close { outcome } => Some(outcome.as_str()),
            _ => None,
        };
        // The sender's user hears of every change made by the receiver.
        let messages = match (side, self.store.referral_sender(id).await?) {
            (Side::Receiver, Some(sender)) => {
                let notice = crate::outbox::ReferralNotice {
                    referral_id: id,
                    code: detail.code.clone(),
                    service: detail.service.clone(),
                    urgency: detail.urgency,
                    due_date: detail.due_date.clone(),
                    status: to,
                };
                notifier.compose(
                    &notice,
                    crate::outbox::NoticeKind::Updated,
                    &self.store.contacts(None, Some(sender)).await?,
                )
            }
            _ => Vec::new(),
        };
        self.store.record_transition(&self.actor, &detail, to, &event, outcome, &messages).await?;
        let after = self.store.referral_detail(id).await?.ok_or(StoreError::NotFound)?;
        Ok(if access == ReferralAccess::Restricted { after.without_clinical_content() } else { after })
    }

    /// Marks a follow-up of a person this principal may write done.
    pub async fn complete_follow_up(&self, id: Uuid) -> Result<()> {
        self.change_follow_up(id, &crate::referrals::FollowUpChange::Complete { outcome: None }).await.map(drop)
    }
}

/// A person's record as the person page shows it.
#[derive(Debug, Clone)]
pub struct PersonPageRecord {
    pub person: Person,
    pub consents: Vec<ConsentScope>,
    pub episodes: Vec<crate::EpisodeLine>,
    pub screenings: Vec<Screening>,
    pub follow_ups: Vec<FollowUp>,
    pub referrals: Vec<ReferralLine>,
    /// Each decided encounter's choice in force (`follow` or `other`).
    pub choices: HashMap<Uuid, String>,
}

/// One encounter as a clinician reads it: its screenings, the decision on it, and what the
/// care-pathway rules use of the person's record.
#[derive(Debug, Clone)]
pub struct EncounterRecord {
    pub screenings: Vec<Screening>,
    pub decision: Option<Decision>,
    pub circumstances: hamroh_domain::pathway::Circumstances,
}

/// What a referral needs from the person sending it.
#[derive(Debug, Clone)]
pub struct ReferralRequest {
    pub person_id: Uuid,
    pub service_id: Uuid,
    pub reason: String,
    pub urgency: hamroh_domain::referral::Urgency,
    pub screening_id: Option<Uuid>,
    pub note: Option<String>,
    /// Today in Dushanbe: the due date counts from it.
    pub today: jiff::civil::Date,
}
