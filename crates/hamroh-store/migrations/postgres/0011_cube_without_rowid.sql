-- The cube is updated on every write, always through its primary key. Pages are left a fifth
-- empty so that an update can stay on its page (a heap-only tuple) and the key index is not
-- touched. Keep in step with ../sqlite/ (where the table becomes clustered, WITHOUT ROWID).

ALTER TABLE indicator_cube SET (fillfactor = 80);
