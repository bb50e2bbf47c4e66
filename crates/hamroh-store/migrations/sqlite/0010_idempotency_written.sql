-- When the write of a keyed request committed, recorded in that write's own transaction: after a
-- crash, a key without an answer is released if its write never committed, and reported as done
-- if it did, so that a retry neither writes twice nor waits forever. Keep in step with ../postgres/.

ALTER TABLE idempotency_keys ADD COLUMN written_at INTEGER;
-- Where a form's answer redirected to, so that a replayed form post redirects there too.
ALTER TABLE idempotency_keys ADD COLUMN location TEXT;
