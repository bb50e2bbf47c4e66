-- A key's row is now written with the keyed request's first write (or its answer), not claimed
-- ahead in a transaction of its own; `claim` names the running request that wrote it, so that a
-- request on another server holding the same key cannot take the row over. Keep in step with
-- ../sqlite/.

ALTER TABLE idempotency_keys ADD COLUMN claim TEXT;
