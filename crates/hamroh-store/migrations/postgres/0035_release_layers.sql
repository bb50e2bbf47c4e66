-- The last release of each year, of every metric by every breakdown made at one moment, with the
-- counts it was protected from (JSON): the next release of that year is protected together with
-- it. Keep in step with ../sqlite/.

CREATE TABLE release_layers (
    year BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
