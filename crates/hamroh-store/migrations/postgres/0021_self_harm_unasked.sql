-- Encounters that never asked about self-harm (no instrument with a self-harm question answered;
-- WHO mhGAP-IG 2.0, SUI 1: ask everyone with a priority condition, chronic pain or acute
-- distress). `reason` is the clinician's reason for not asking ('declined', 'unable'); without
-- one (an import, the API) the encounter waits on the worklist as "self-harm not asked" until a
-- later encounter of the person asks. Written with the encounter's screenings. Keep in step with
-- ../sqlite/.

CREATE TABLE self_harm_unasked (
    encounter_id UUID PRIMARY KEY,
    person_id UUID NOT NULL REFERENCES persons(id),
    organisation_id UUID NOT NULL,
    reason TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX self_harm_unasked_waiting ON self_harm_unasked(organisation_id, at) WHERE reason IS NULL;
CREATE INDEX self_harm_unasked_person ON self_harm_unasked(person_id, at);
