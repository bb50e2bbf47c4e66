-- The worklist's sections read an organisation's rows in the order they are shown, from tables and
-- indexes that hold only the rows a section can show. Red flags waiting for a decision scanned
-- every flagged screening of the organisation (most long decided): they are now rows of their
-- own, added with a flagged screening and removed with the encounter's decision, in the same
-- transactions. Overdue referrals read from an index of open referrals by sender and due date; a
-- search by birth year reads its first matches in name order. Keep in step with ../postgres/.

CREATE TABLE open_red_flags (
    screening_id BLOB PRIMARY KEY REFERENCES screenings(id),
    organisation_id BLOB NOT NULL,
    encounter_id BLOB NOT NULL,
    encounter_at INTEGER NOT NULL
) STRICT;
INSERT INTO open_red_flags (screening_id, organisation_id, encounter_id, encounter_at)
    SELECT s.id, s.organisation_id, s.encounter_id, s.encounter_at FROM screenings s
    WHERE s.flags <> '' AND s.encounter_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.encounter_id = s.encounter_id);
CREATE INDEX open_red_flags_waiting ON open_red_flags(organisation_id, encounter_at);
CREATE INDEX open_red_flags_encounter ON open_red_flags(encounter_id);

CREATE INDEX referrals_open_from ON referrals(from_organisation_id, due_date, code)
    WHERE status IN ('sent', 'accepted');

DROP INDEX persons_org_birth_year;
CREATE INDEX persons_org_birth_year_named ON persons(organisation_id, birth_year, family_name, given_name, code);
