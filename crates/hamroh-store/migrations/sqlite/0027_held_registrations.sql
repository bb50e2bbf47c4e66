-- Registrations filled offline that may name someone already registered: held, not guessed,
-- until a person of the organisation registers them as new or records them as the same person.
-- The submission's instance id and digest make a resend a no-op. Keep in step with ../postgres/.

CREATE TABLE held_registrations (
    source TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    organisation_id BLOB NOT NULL REFERENCES organisations(id),
    registration TEXT NOT NULL,
    candidates TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    received_by BLOB,
    resolved_at INTEGER,
    resolved_by BLOB,
    person_id BLOB REFERENCES persons(id),
    PRIMARY KEY (source, submission_id)
) STRICT;

CREATE INDEX held_registrations_waiting ON held_registrations (organisation_id, received_at) WHERE resolved_at IS NULL;
