-- A search, a registration's duplicate check or a worklist is audited as one event (entity
-- `shown`) that names every person it showed by code, in its detail: `search 7K3Q9D2F 4ABC0XYZ …`
-- (a code without `HM-` and its dash). It used to be one event per person shown, 50 for a common name, which made searches most
-- of the audit trail's size. This index answers "which searches showed this person" from the
-- codes in the detail. Keep in step with ../sqlite/.

CREATE INDEX audit_events_shown ON audit_events USING gin (string_to_array(detail, ' ')) WHERE entity = 'shown';

-- The person index holds only events about a person: searches and every other event without one
-- left an entry each for nothing.
DROP INDEX audit_events_person;
CREATE INDEX audit_events_person ON audit_events(person_id) WHERE person_id IS NOT NULL;
