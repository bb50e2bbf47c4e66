-- Indicator counts kept up to date in the same transaction as the records they count: for every
-- measure, category, month and value, one row per breakdown (dim) value, so that a dashboard
-- query reads a few thousand rows instead of scanning records. Filled from existing records the
-- first time the store opens after this migration. Keep in step with ../postgres/.

CREATE TABLE indicator_cube (
    measure TEXT NOT NULL,
    category TEXT NOT NULL,
    month INTEGER NOT NULL,
    dim TEXT NOT NULL,
    dim_value TEXT NOT NULL,
    value INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (dim, measure, category, month, dim_value, value)
) STRICT;
