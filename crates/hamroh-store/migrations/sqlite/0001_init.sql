-- Hamroh schema, SQLite dialect. Keep in step with ../postgres/0001_init.sql: same tables, same
-- columns, same names. Ids are UUIDs (BLOB here), times are Unix milliseconds, dates ISO text.

CREATE TABLE organisations (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    district TEXT,
    uses_hamroh INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    organisation_id BLOB NOT NULL REFERENCES organisations(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'tg',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE user_roles (
    user_id BLOB NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
) STRICT;

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE persons (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    organisation_id BLOB NOT NULL REFERENCES organisations(id),
    sex TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    region TEXT NOT NULL,
    district TEXT NOT NULL,
    given_name TEXT,
    family_name TEXT,
    phone TEXT,
    created_at INTEGER NOT NULL,
    created_by BLOB,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX persons_org ON persons(organisation_id);
CREATE INDEX persons_district ON persons(district);

CREATE TABLE migration_episodes (
    id BLOB PRIMARY KEY,
    person_id BLOB NOT NULL REFERENCES persons(id),
    destination_country TEXT NOT NULL,
    destination_region TEXT,
    year_from INTEGER NOT NULL,
    year_to INTEGER,
    work_sector TEXT NOT NULL,
    occupation TEXT,
    legal_status TEXT NOT NULL,
    return_date TEXT,
    return_reason TEXT,
    injury INTEGER NOT NULL DEFAULT 0,
    injury_cause TEXT,
    injury_body_part TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX migration_episodes_person ON migration_episodes(person_id);

CREATE TABLE consents (
    id BLOB PRIMARY KEY,
    person_id BLOB NOT NULL REFERENCES persons(id),
    scope TEXT NOT NULL,
    given INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    recorded_by BLOB
) STRICT;
CREATE INDEX consents_person ON consents(person_id, scope, recorded_at);

CREATE TABLE screenings (
    id BLOB PRIMARY KEY,
    person_id BLOB NOT NULL REFERENCES persons(id),
    organisation_id BLOB NOT NULL REFERENCES organisations(id),
    user_id BLOB,
    encounter_at INTEGER NOT NULL,
    period_month INTEGER NOT NULL,
    instrument TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    lang TEXT NOT NULL,
    answers TEXT NOT NULL,
    total INTEGER,
    band TEXT,
    positive INTEGER,
    flags TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX screenings_person ON screenings(person_id, encounter_at);
CREATE INDEX screenings_period ON screenings(period_month, instrument);

CREATE TABLE services (
    id BLOB PRIMARY KEY,
    organisation_id BLOB NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    service_type TEXT NOT NULL,
    response_days INTEGER NOT NULL DEFAULT 7,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE service_districts (
    service_id BLOB NOT NULL REFERENCES services(id),
    district TEXT NOT NULL,
    PRIMARY KEY (service_id, district)
) STRICT;

CREATE TABLE referrals (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    person_id BLOB NOT NULL REFERENCES persons(id),
    from_organisation_id BLOB NOT NULL REFERENCES organisations(id),
    from_user_id BLOB,
    service_id BLOB NOT NULL REFERENCES services(id),
    to_organisation_id BLOB NOT NULL REFERENCES organisations(id),
    screening_id BLOB REFERENCES screenings(id),
    reason TEXT NOT NULL,
    urgency TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX referrals_person ON referrals(person_id);
CREATE INDEX referrals_to ON referrals(to_organisation_id, status);
CREATE INDEX referrals_from ON referrals(from_organisation_id, status);

CREATE TABLE referral_events (
    referral_id BLOB NOT NULL REFERENCES referrals(id),
    seq INTEGER NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    at INTEGER NOT NULL,
    by_user_id BLOB,
    reason TEXT,
    barrier TEXT,
    note TEXT,
    PRIMARY KEY (referral_id, seq)
) STRICT;

CREATE TABLE follow_ups (
    id BLOB PRIMARY KEY,
    person_id BLOB NOT NULL REFERENCES persons(id),
    organisation_id BLOB NOT NULL REFERENCES organisations(id),
    referral_id BLOB REFERENCES referrals(id),
    kind TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    created_at INTEGER NOT NULL,
    created_by BLOB,
    done_at INTEGER,
    done_by BLOB
) STRICT;
CREATE INDEX follow_ups_person ON follow_ups(person_id);
CREATE INDEX follow_ups_due ON follow_ups(organisation_id, status, due_date);

-- Append-only, hash-chained audit trail. audit_head holds the chain's tip; every writer updates it
-- first, which serialises appends on both backends.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    person_id BLOB,
    address TEXT,
    outcome TEXT NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_person ON audit_events(person_id);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
