-- The sender's worklist lists its referrals that the receiving side moved recently (accepted,
-- declined, redirected, attended, no-show), newest first: read from this index, not by walking
-- every referral the organisation ever sent. Keep in step with ../sqlite/.

CREATE INDEX referrals_answered_from ON referrals(from_organisation_id, updated_at);
