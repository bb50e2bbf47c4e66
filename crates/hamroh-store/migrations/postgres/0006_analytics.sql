-- What indicators group by: a person's registration month (Dushanbe time, UTC+5) and the
-- destination and work sector of the last stay abroad. Keep in step with ../sqlite/.

ALTER TABLE persons ADD COLUMN period_month BIGINT NOT NULL DEFAULT 0;
ALTER TABLE persons ADD COLUMN destination TEXT;
ALTER TABLE persons ADD COLUMN work_sector TEXT;
UPDATE persons SET period_month = CAST(to_char(to_timestamp(created_at / 1000 + 18000) AT TIME ZONE 'UTC', 'YYYYMM') AS BIGINT);
UPDATE persons SET
    destination = (SELECT e.destination_country FROM migration_episodes e WHERE e.person_id = persons.id
                   ORDER BY e.year_from DESC, e.created_at DESC LIMIT 1),
    work_sector = (SELECT e.work_sector FROM migration_episodes e WHERE e.person_id = persons.id
                   ORDER BY e.year_from DESC, e.created_at DESC LIMIT 1);
CREATE INDEX persons_period ON persons(period_month);
CREATE INDEX referrals_created ON referrals(created_at);
CREATE INDEX migration_episodes_injury ON migration_episodes(injury, person_id);
