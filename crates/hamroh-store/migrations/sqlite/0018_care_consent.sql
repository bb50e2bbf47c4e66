-- A search shows up to fifty persons and decides access to each. For a person the clinic
-- registered, that is whether consent to care is in force, which took a lookup per person in the
-- consent ledger: about 130 pages at two million people, read again after every commit, since a
-- commit empties every other connection's page cache. The latest care decision is now also kept
-- on the person's row, which the search reads anyway. A trigger keeps it in the transaction that
-- records the consent, whatever path records it; a decision recorded late (an older time) does
-- not override a newer one. The ledger stays the record, and every other access decision reads
-- it. Keep in step with ../postgres/.

ALTER TABLE persons ADD COLUMN care_consent INTEGER NOT NULL DEFAULT 0;
UPDATE persons SET care_consent = 1
    WHERE (SELECT c.given FROM consents c WHERE c.person_id = persons.id AND c.scope = 'care'
           ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1) = 1;
CREATE TRIGGER consents_care AFTER INSERT ON consents WHEN NEW.scope = 'care' BEGIN
    UPDATE persons SET care_consent = (SELECT c.given FROM consents c
        WHERE c.person_id = NEW.person_id AND c.scope = 'care' ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1)
    WHERE id = NEW.person_id;
END;
