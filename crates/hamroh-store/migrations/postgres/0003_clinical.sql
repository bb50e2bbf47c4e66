-- Cross-script name keys for search, encounters that group screenings, clinicians' decisions.
-- Keep in step with ../sqlite/.

ALTER TABLE persons ADD COLUMN family_key TEXT;
ALTER TABLE persons ADD COLUMN family_consonants TEXT;
ALTER TABLE persons ADD COLUMN given_key TEXT;
ALTER TABLE persons ADD COLUMN given_consonants TEXT;
CREATE INDEX persons_family_key ON persons(family_key);
CREATE INDEX persons_family_consonants ON persons(family_consonants);
CREATE INDEX persons_phone ON persons(phone);

ALTER TABLE screenings ADD COLUMN encounter_id UUID;
CREATE INDEX screenings_encounter ON screenings(encounter_id);

CREATE TABLE decisions (
    id UUID PRIMARY KEY,
    encounter_id UUID NOT NULL,
    person_id UUID NOT NULL REFERENCES persons(id),
    organisation_id UUID NOT NULL REFERENCES organisations(id),
    user_id UUID,
    suggested TEXT NOT NULL,
    choice TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX decisions_encounter ON decisions(encounter_id);
CREATE INDEX decisions_person ON decisions(person_id);
