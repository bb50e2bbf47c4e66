-- A common name can match tens of thousands of an organisation's persons, and the search shows
-- the first 50 in name order. With the name order in the index after the key, each of the
-- search's selects reads its first 50 matches in order and stops, instead of sorting them all.
-- These replace the (organisation, key) indexes of 0012. Keep in step with the other backend.

DROP INDEX persons_org_family_key;
DROP INDEX persons_org_family_consonants;
DROP INDEX persons_org_given_key;
DROP INDEX persons_org_given_consonants;
CREATE INDEX persons_org_family_key_named ON persons(organisation_id, family_key, family_name, given_name, code);
CREATE INDEX persons_org_family_consonants_named ON persons(organisation_id, family_consonants, family_name, given_name, code);
CREATE INDEX persons_org_given_key_named ON persons(organisation_id, given_key, family_name, given_name, code);
CREATE INDEX persons_org_given_consonants_named ON persons(organisation_id, given_consonants, family_name, given_name, code);
