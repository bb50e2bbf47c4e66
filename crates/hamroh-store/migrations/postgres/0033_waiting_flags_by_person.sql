-- The worklist lists the persons of an organisation with red flags waiting, the longest waiting
-- first: each person's first waiting flag is found from this index alone, without reading each
-- flag's row (2,342 rows took 5-8 ms at two million persons; BENCHMARKS.md). Keep in step with
-- ../sqlite/.

CREATE INDEX open_red_flags_org_person ON open_red_flags(organisation_id, person_id, encounter_at);
