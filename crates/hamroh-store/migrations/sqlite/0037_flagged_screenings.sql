-- Each person's positive or flagged screenings, by time: the lost-to-follow-up figures, read on
-- every indicator page, find a waiting person's first such screening here without reading the
-- screening rows (their answers). The condition is the query's own (`facts::lost_facts`), word
-- for word, so that the planner can use the index. Keep in step with the other backend.

CREATE INDEX screenings_flagged ON screenings(person_id, encounter_at) WHERE positive = TRUE OR flags <> '';
