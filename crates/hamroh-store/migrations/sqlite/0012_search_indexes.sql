-- Search reaches a person through an index for every kind of query instead of scanning the
-- registry or the whole organisation: each index starts with the registering organisation, then
-- what is asked for (either name key, as a search asks for family or given name alike; birth
-- year; phone digits as the search compares them). The name indexes replace the ones on the
-- family name alone. Keep in step with the other backend's folder.

DROP INDEX persons_family_key;
DROP INDEX persons_family_consonants;
CREATE INDEX persons_org_family_key ON persons(organisation_id, family_key);
CREATE INDEX persons_org_family_consonants ON persons(organisation_id, family_consonants);
CREATE INDEX persons_org_given_key ON persons(organisation_id, given_key);
CREATE INDEX persons_org_given_consonants ON persons(organisation_id, given_consonants);
CREATE INDEX persons_org_birth_year ON persons(organisation_id, birth_year);
CREATE INDEX persons_org_phone_digits ON persons(organisation_id, (REPLACE(phone, '+', '')));
