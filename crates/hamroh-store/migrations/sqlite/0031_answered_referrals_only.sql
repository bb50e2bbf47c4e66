-- The sender's worklist reads its answered referrals (changed after they were sent) from an index
-- of those alone: the index of every referral by time of change made a clinic that sends many
-- walk each one sent in the window to find the few answered (34,000 rows for none, 20-26 ms, on
-- a busy clinic; BENCHMARKS.md). Keep in step with ../postgres/.

DROP INDEX referrals_answered_from;
CREATE INDEX referrals_answered_from ON referrals(from_organisation_id, updated_at) WHERE updated_at > created_at;
