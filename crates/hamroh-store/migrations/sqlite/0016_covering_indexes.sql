-- Indexes that hold every column their queries read, so that these read index entries only and
-- not a table row per entry. Keep in step with the other dialect's folder.

-- Access checks read every consent decision of the persons a search or a worklist shows (about
-- four each).
DROP INDEX consents_person;
CREATE INDEX consents_person ON consents(person_id, scope, recorded_at, given, id);

-- The worklist counts an organisation's overdue referrals (up to 500) from this index.
DROP INDEX referrals_open_from;
CREATE INDEX referrals_open_from ON referrals(from_organisation_id, due_date, code, status)
    WHERE status IN ('sent', 'accepted');

-- Red flags are listed by encounter, oldest first, in index order.
DROP INDEX open_red_flags_waiting;
CREATE INDEX open_red_flags_waiting ON open_red_flags(organisation_id, encounter_at, encounter_id);

-- Access checks read where each person's referrals go and whether they are open.
DROP INDEX referrals_person;
CREATE INDEX referrals_person ON referrals(person_id, to_organisation_id, status);
