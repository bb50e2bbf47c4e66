-- The answers to state-changing API requests that carried an Idempotency-Key, so that a retry
-- after a lost reply gets the first answer and writes nothing twice. The caller is the hash of the
-- credential the request came with. Keep in step with ../postgres/.

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (caller, key)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
