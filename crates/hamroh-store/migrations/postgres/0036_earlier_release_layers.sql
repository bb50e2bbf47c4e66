-- The release layers of each year before the last (see 0035), newest `seq` last: a new release of
-- that year is protected together with them too, so that no three or more releases read together
-- narrow a figure. Only the last few are kept (`releases::EARLIER_LAYERS_KEPT`). Keep in step with
-- ../sqlite/.

CREATE TABLE release_layers_before (
    year BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (year, seq)
);
