-- A search shows up to fifty persons and decides access to each. For a person the clinic
-- registered, that is whether consent to care is in force, which took a lookup per person in the
-- consent ledger. The latest care decision is now also kept on the person's row, which the search
-- reads anyway. A trigger keeps it in the transaction that records the consent, whatever path
-- records it; a decision recorded late (an older time) does not override a newer one. The ledger
-- stays the record, and every other access decision reads it. Keep in step with ../sqlite/.

ALTER TABLE persons ADD COLUMN care_consent BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE persons p SET care_consent = TRUE
    WHERE (SELECT c.given FROM consents c WHERE c.person_id = p.id AND c.scope = 'care'
           ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1);
CREATE FUNCTION consents_care() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE persons SET care_consent = (SELECT c.given FROM consents c
        WHERE c.person_id = NEW.person_id AND c.scope = 'care' ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1)
    WHERE id = NEW.person_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER consents_care AFTER INSERT ON consents
    FOR EACH ROW WHEN (NEW.scope = 'care') EXECUTE FUNCTION consents_care();
