-- The release log: every publication of indicator figures (what, when, to whom), and the values
-- each figure has been published with, so that a new release is protected against the earlier
-- ones. Keep in step with ../postgres/.

CREATE TABLE releases (
    id BLOB PRIMARY KEY,
    at INTEGER NOT NULL,
    user_id BLOB,
    organisation_id BLOB,
    channel TEXT NOT NULL,
    request TEXT NOT NULL,
    breakdown TEXT NOT NULL,
    as_of INTEGER NOT NULL,
    k INTEGER NOT NULL,
    figures INTEGER NOT NULL,
    withheld INTEGER NOT NULL
) STRICT;

CREATE INDEX releases_at ON releases (at);

-- One row per universe (metric, year, breakdown dimension): a JSON object from each figure's key
-- to the values it has been published with.
CREATE TABLE release_history (
    universe TEXT PRIMARY KEY,
    published TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
