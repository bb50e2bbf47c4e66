-- Second factor, pending second-factor sessions, API tokens. Keep in step with ../postgres/.

ALTER TABLE users ADD COLUMN totp_secret TEXT;

ALTER TABLE sessions ADD COLUMN second_factor_pending INTEGER NOT NULL DEFAULT 0;

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
