-- Survey submissions imported from KoBoToolbox or ODK Central, by their source and id, so that
-- importing the same export again creates nothing twice. The digest tells a submission edited
-- at the source since. Keep in step with ../sqlite/.

CREATE TABLE imported_submissions (
    source TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    person_id UUID NOT NULL REFERENCES persons(id),
    encounter_id UUID,
    imported_at BIGINT NOT NULL,
    imported_by UUID,
    PRIMARY KEY (source, submission_id)
);
