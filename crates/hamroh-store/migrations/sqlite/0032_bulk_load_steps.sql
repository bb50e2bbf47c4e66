-- What a bulk load still has to do: the indexes it set aside (name and the statement that builds
-- each) and, with no statement, the derived tables (open red flags, first unanswered screenings,
-- cube). Each row is written in the transaction that sets its step aside and removed in the one
-- that does it, so a store that opens after an interrupted load can finish it. Keep in step
-- with ../postgres/.

CREATE TABLE bulk_load_steps (
    name TEXT PRIMARY KEY,
    index_definition TEXT
) STRICT;
