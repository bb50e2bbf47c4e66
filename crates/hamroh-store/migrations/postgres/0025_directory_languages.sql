-- The directory in three languages: an organisation's name and a service's name, description and
-- opening hours in the language they were written in (name_lang, text_lang), with translations
-- as JSON ({"tg": {"name": ..., "description": ..., "opening_hours": ...}}). Entries from before
-- were written in English. Keep in step with ../sqlite/.

ALTER TABLE organisations ADD COLUMN name_lang TEXT NOT NULL DEFAULT 'en';
ALTER TABLE organisations ADD COLUMN translations TEXT NOT NULL DEFAULT '{}';
ALTER TABLE services ADD COLUMN description TEXT;
ALTER TABLE services ADD COLUMN text_lang TEXT NOT NULL DEFAULT 'en';
ALTER TABLE services ADD COLUMN translations TEXT NOT NULL DEFAULT '{}';
