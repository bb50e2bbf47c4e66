-- A person's record kept current: each change of a field after registration (phone, district,
-- a stay abroad added, a work injury given or removed) keeps the value it replaced, who changed
-- it and when. The audit chain says that the record changed and which fields; this table holds
-- the values, under the same access rules as the record. Keep in step with ../sqlite/.

CREATE TABLE record_changes (
    id UUID PRIMARY KEY,
    person_id UUID NOT NULL REFERENCES persons(id),
    -- person or migration_episode
    entity TEXT NOT NULL,
    entity_id UUID NOT NULL,
    field TEXT NOT NULL,
    previous TEXT,
    current TEXT,
    changed_at BIGINT NOT NULL,
    changed_by UUID REFERENCES users(id)
);
CREATE INDEX record_changes_person ON record_changes(person_id, changed_at);
