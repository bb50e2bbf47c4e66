-- Lost to follow-up read every positive or flagged screening in the country and, for each, looked
-- for an attended referral or a done follow-up since (42 s at two million people). A person's
-- first positive or flagged screening that nothing answered since is now a row of its own, kept
-- in the transaction of every write that can change it (a positive or flagged screening, an
-- attended referral, a done follow-up). A screening is answered by an attendance or follow-up at
-- or after its time, so this is the first such screening after the person's last answer; the
-- person is lost once it is older than the cut-off. The registering organisation, which never
-- changes, is kept beside it for the coordinator's counts by organisation and each clinic's list.
-- Keep in step with ../sqlite/.

CREATE TABLE unanswered (
    person_id UUID PRIMARY KEY REFERENCES persons(id),
    organisation_id UUID NOT NULL,
    since BIGINT NOT NULL
);
INSERT INTO unanswered (person_id, organisation_id, since)
    SELECT s.person_id, p.organisation_id, MIN(s.encounter_at) FROM screenings s JOIN persons p ON p.id = s.person_id
    WHERE (s.positive = TRUE OR s.flags <> '')
    AND NOT EXISTS (SELECT 1 FROM referrals r JOIN referral_events e ON e.referral_id = r.id
        WHERE r.person_id = s.person_id AND e.to_status || '' = 'attended' AND e.at >= s.encounter_at)
    AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.person_id = s.person_id AND f.status = 'done'
        AND f.done_at >= s.encounter_at)
    GROUP BY s.person_id, p.organisation_id;
CREATE INDEX unanswered_since ON unanswered(since, organisation_id, person_id);
CREATE INDEX unanswered_organisation ON unanswered(organisation_id, since, person_id);
