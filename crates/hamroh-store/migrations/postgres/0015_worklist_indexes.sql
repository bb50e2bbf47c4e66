-- The worklist's sections read an organisation's rows in the order they are shown, from indexes
-- that hold only the rows a section can show: without them, red flags scanned every screening of
-- the country and overdue referrals every open referral. Keep in step with ../sqlite/.

CREATE INDEX screenings_flagged ON screenings(organisation_id, encounter_at) WHERE flags <> '';
CREATE INDEX referrals_open_from ON referrals(from_organisation_id, due_date, code)
    WHERE status IN ('sent', 'accepted');
