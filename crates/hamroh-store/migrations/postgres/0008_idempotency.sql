-- The answers to state-changing API requests that carried an Idempotency-Key, so that a retry
-- after a lost reply gets the first answer and writes nothing twice. The caller is the hash of the
-- credential the request came with. Keep in step with ../sqlite/.

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status BIGINT,
    content_type TEXT,
    body BYTEA,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
