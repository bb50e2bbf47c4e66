-- The SHA-256 of a keyed request's body, so that a key reused with another body is refused
-- instead of replaying the first answer. Rows kept before this migration have none and are
-- compared by method and path only.
ALTER TABLE idempotency_keys ADD COLUMN body_hash BLOB;
-- A second-factor secret offered to the session's user and not yet confirmed: the server chooses
-- it, so that no client can enrol a secret of its own making (an all-zero one, say).
ALTER TABLE sessions ADD COLUMN totp_offer TEXT;
