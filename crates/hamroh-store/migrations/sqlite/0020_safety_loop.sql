-- The self-harm safety loop. A red flag now leaves the worklist only through its safety
-- assessment (or a recorded reason why none could be made), not through the encounter's
-- decision; flags that earlier versions closed with a decision stay closed, as the audit trail
-- recorded them. Keep in step with ../postgres/.

CREATE TABLE safety_assessments (
    id BLOB PRIMARY KEY,
    encounter_id BLOB NOT NULL,
    person_id BLOB NOT NULL REFERENCES persons(id),
    organisation_id BLOB NOT NULL REFERENCES organisations(id),
    flag TEXT NOT NULL,
    -- 'assessed', or 'not_possible' with `not_possible` and `attempts`
    outcome TEXT NOT NULL,
    thoughts INTEGER,
    plan INTEGER,
    act_past_year INTEGER,
    imminent_risk INTEGER,
    means_counselled INTEGER,
    safety_plan TEXT,
    action TEXT,
    not_possible TEXT,
    attempts INTEGER,
    note TEXT,
    user_id BLOB,
    at INTEGER NOT NULL
) STRICT;
CREATE INDEX safety_assessments_encounter ON safety_assessments(encounter_id);
CREATE INDEX safety_assessments_person ON safety_assessments(person_id);

-- One worklist row per person; a flag that arrived without a face-to-face visit asks for
-- contact today; an unassessed flag past the deployment's limit is escalated once.
ALTER TABLE open_red_flags ADD COLUMN person_id BLOB;
UPDATE open_red_flags SET person_id = (SELECT s.person_id FROM screenings s WHERE s.id = open_red_flags.screening_id);
ALTER TABLE open_red_flags ADD COLUMN contact_today INTEGER NOT NULL DEFAULT 0;
ALTER TABLE open_red_flags ADD COLUMN escalated_at INTEGER;
CREATE INDEX open_red_flags_person ON open_red_flags(person_id);

-- What set a follow-up (a flag or pathway rule, or 'manual'), its encounter, and its outcome.
ALTER TABLE follow_ups ADD COLUMN source TEXT NOT NULL DEFAULT 'pathway';
ALTER TABLE follow_ups ADD COLUMN encounter_id BLOB;
ALTER TABLE follow_ups ADD COLUMN outcome TEXT;

-- An amended decision points at the one it replaces; both stay.
ALTER TABLE decisions ADD COLUMN amends BLOB;
