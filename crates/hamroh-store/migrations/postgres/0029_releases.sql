-- The release log: every publication of indicator figures (what, when, to whom), and the values
-- each figure has been published with, so that a new release is protected against the earlier
-- ones. Keep in step with ../sqlite/.

CREATE TABLE releases (
    id UUID PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id UUID,
    organisation_id UUID,
    channel TEXT NOT NULL,
    request TEXT NOT NULL,
    breakdown TEXT NOT NULL,
    as_of BIGINT NOT NULL,
    k BIGINT NOT NULL,
    figures BIGINT NOT NULL,
    withheld BIGINT NOT NULL
);

CREATE INDEX releases_at ON releases (at);

-- One row per universe (metric, year, breakdown dimension): a JSON object from each figure's key
-- to the values it has been published with.
CREATE TABLE release_history (
    universe TEXT PRIMARY KEY,
    published TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
