-- The service directory's details, referral outcomes. Keep in step with ../sqlite/.

ALTER TABLE services ADD COLUMN languages TEXT NOT NULL DEFAULT 'tg,ru';
ALTER TABLE services ADD COLUMN cost TEXT NOT NULL DEFAULT 'free';
ALTER TABLE services ADD COLUMN accessible BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE services ADD COLUMN contact TEXT;
ALTER TABLE services ADD COLUMN opening_hours TEXT;

ALTER TABLE referrals ADD COLUMN outcome TEXT;
CREATE INDEX referrals_due ON referrals(status, due_date);
CREATE INDEX referral_events_status ON referral_events(to_status, at);
