-- A counter of recorded releases. A release is protected against the history it read, and is
-- recorded only if no other release was recorded since: two processes publishing at once (a
-- command-line export while the server runs) each protect against the other's figures. Keep in
-- step with ../postgres/.

CREATE TABLE release_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
) STRICT;

INSERT INTO release_generation (id, generation) VALUES (1, 0);
