-- How a consent decision was given (verbal or written), where the recorder said; NULL for the
-- decisions recorded before. Keep in step with ../sqlite/.

ALTER TABLE consents ADD COLUMN given_how TEXT;
