-- Contact details for notifications, and the outbox: messages to deliver at least once, with
-- retries. Keep in step with ../postgres/.

ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;

CREATE TABLE outbox (
    id BLOB PRIMARY KEY,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    lang TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    referral_id BLOB,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox(delivered_at, next_attempt_at);
