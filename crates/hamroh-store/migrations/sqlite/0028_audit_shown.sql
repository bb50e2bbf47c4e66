-- A search, a registration's duplicate check or a worklist is audited as one event (entity
-- `shown`) that names every person it showed by code, in its detail: `search 7K3Q9D2F 4ABC0XYZ …`
-- (a code without `HM-` and its dash). It used to be one event per person shown, 50 for a common name, which made searches most
-- of the audit trail's size. This index answers "which searches showed this person" from the
-- codes: an inverted index holding only event numbers (contentless, no positions), a few bytes a
-- person shown. The event stays the record and the hash chain covers it. Keep in step with
-- ../postgres/.

CREATE VIRTUAL TABLE audit_shown USING fts5(persons, content = '', detail = 'none', columnsize = 0);

-- The person index holds only events about a person: searches and every other event without one
-- left an entry each for nothing.
DROP INDEX audit_events_person;
CREATE INDEX audit_events_person ON audit_events(person_id) WHERE person_id IS NOT NULL;
