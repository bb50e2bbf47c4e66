-- The release layers of each year before the last (see 0035), newest `seq` last: a new release of
-- that year is protected together with them too, so that no three or more releases read together
-- narrow a figure. Only the last few are kept (`releases::EARLIER_LAYERS_KEPT`). Keep in step with
-- ../postgres/.

CREATE TABLE release_layers_before (
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (year, seq)
) STRICT;
