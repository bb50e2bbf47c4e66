-- The cube is updated on every write, always through its primary key: stored as a clustered
-- (WITHOUT ROWID) table, an update touches one B-tree instead of the table and its key index.
-- Keep in step with ../postgres/.

CREATE TABLE indicator_cube_clustered (
    measure TEXT NOT NULL,
    category TEXT NOT NULL,
    month INTEGER NOT NULL,
    dim TEXT NOT NULL,
    dim_value TEXT NOT NULL,
    value INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (dim, measure, category, month, dim_value, value)
) STRICT, WITHOUT ROWID;

INSERT INTO indicator_cube_clustered (measure, category, month, dim, dim_value, value, n)
    SELECT measure, category, month, dim, dim_value, value, n FROM indicator_cube;
DROP TABLE indicator_cube;
ALTER TABLE indicator_cube_clustered RENAME TO indicator_cube;
