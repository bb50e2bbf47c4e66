-- A waiting red flag carries the names of its screening's flags (screenings never change), so that
-- the worklist, the person page and an assessment that answers flags read them from the waiting
-- row instead of each flag's screening: at two million persons those screenings lie all over the
-- file (BENCHMARKS.md). Keep in step with ../sqlite/.

ALTER TABLE open_red_flags ADD COLUMN flags TEXT NOT NULL DEFAULT '';
UPDATE open_red_flags SET flags = (SELECT s.flags FROM screenings s WHERE s.id = open_red_flags.screening_id);
