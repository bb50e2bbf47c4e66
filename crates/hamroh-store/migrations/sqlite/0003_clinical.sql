-- Cross-script name keys for search, encounters that group screenings, clinicians' decisions.
-- Keep in step with ../postgres/.

ALTER TABLE persons ADD COLUMN family_key TEXT;
ALTER TABLE persons ADD COLUMN family_consonants TEXT;
ALTER TABLE persons ADD COLUMN given_key TEXT;
ALTER TABLE persons ADD COLUMN given_consonants TEXT;
CREATE INDEX persons_family_key ON persons(family_key);
CREATE INDEX persons_family_consonants ON persons(family_consonants);
CREATE INDEX persons_phone ON persons(phone);

ALTER TABLE screenings ADD COLUMN encounter_id BLOB;
CREATE INDEX screenings_encounter ON screenings(encounter_id);

CREATE TABLE decisions (
    id BLOB PRIMARY KEY,
    encounter_id BLOB NOT NULL,
    person_id BLOB NOT NULL REFERENCES persons(id),
    organisation_id BLOB NOT NULL REFERENCES organisations(id),
    user_id BLOB,
    suggested TEXT NOT NULL,
    choice TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT,
    at INTEGER NOT NULL
) STRICT;
CREATE INDEX decisions_encounter ON decisions(encounter_id);
CREATE INDEX decisions_person ON decisions(person_id);
