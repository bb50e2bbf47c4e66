-- Hamroh schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_init.sql: same tables, same
-- columns, same names. Ids are UUIDs (native UUID here), times are Unix milliseconds, dates ISO text.

CREATE TABLE organisations (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    district TEXT,
    uses_hamroh BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'tg',
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE TABLE user_roles (
    user_id UUID NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE persons (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    organisation_id UUID NOT NULL REFERENCES organisations(id),
    sex TEXT NOT NULL,
    birth_year BIGINT NOT NULL,
    region TEXT NOT NULL,
    district TEXT NOT NULL,
    given_name TEXT,
    family_name TEXT,
    phone TEXT,
    created_at BIGINT NOT NULL,
    created_by UUID,
    updated_at BIGINT NOT NULL
);
CREATE INDEX persons_org ON persons(organisation_id);
CREATE INDEX persons_district ON persons(district);

CREATE TABLE migration_episodes (
    id UUID PRIMARY KEY,
    person_id UUID NOT NULL REFERENCES persons(id),
    destination_country TEXT NOT NULL,
    destination_region TEXT,
    year_from BIGINT NOT NULL,
    year_to BIGINT,
    work_sector TEXT NOT NULL,
    occupation TEXT,
    legal_status TEXT NOT NULL,
    return_date TEXT,
    return_reason TEXT,
    injury BOOLEAN NOT NULL DEFAULT FALSE,
    injury_cause TEXT,
    injury_body_part TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX migration_episodes_person ON migration_episodes(person_id);

CREATE TABLE consents (
    id UUID PRIMARY KEY,
    person_id UUID NOT NULL REFERENCES persons(id),
    scope TEXT NOT NULL,
    given BOOLEAN NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by UUID
);
CREATE INDEX consents_person ON consents(person_id, scope, recorded_at);

CREATE TABLE screenings (
    id UUID PRIMARY KEY,
    person_id UUID NOT NULL REFERENCES persons(id),
    organisation_id UUID NOT NULL REFERENCES organisations(id),
    user_id UUID,
    encounter_at BIGINT NOT NULL,
    period_month BIGINT NOT NULL,
    instrument TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    lang TEXT NOT NULL,
    answers TEXT NOT NULL,
    total BIGINT,
    band TEXT,
    positive BOOLEAN,
    flags TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX screenings_person ON screenings(person_id, encounter_at);
CREATE INDEX screenings_period ON screenings(period_month, instrument);

CREATE TABLE services (
    id UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    sector TEXT NOT NULL,
    service_type TEXT NOT NULL,
    response_days BIGINT NOT NULL DEFAULT 7,
    created_at BIGINT NOT NULL
);

CREATE TABLE service_districts (
    service_id UUID NOT NULL REFERENCES services(id),
    district TEXT NOT NULL,
    PRIMARY KEY (service_id, district)
);

CREATE TABLE referrals (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    person_id UUID NOT NULL REFERENCES persons(id),
    from_organisation_id UUID NOT NULL REFERENCES organisations(id),
    from_user_id UUID,
    service_id UUID NOT NULL REFERENCES services(id),
    to_organisation_id UUID NOT NULL REFERENCES organisations(id),
    screening_id UUID REFERENCES screenings(id),
    reason TEXT NOT NULL,
    urgency TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX referrals_person ON referrals(person_id);
CREATE INDEX referrals_to ON referrals(to_organisation_id, status);
CREATE INDEX referrals_from ON referrals(from_organisation_id, status);

CREATE TABLE referral_events (
    referral_id UUID NOT NULL REFERENCES referrals(id),
    seq BIGINT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    at BIGINT NOT NULL,
    by_user_id UUID,
    reason TEXT,
    barrier TEXT,
    note TEXT,
    PRIMARY KEY (referral_id, seq)
);

CREATE TABLE follow_ups (
    id UUID PRIMARY KEY,
    person_id UUID NOT NULL REFERENCES persons(id),
    organisation_id UUID NOT NULL REFERENCES organisations(id),
    referral_id UUID REFERENCES referrals(id),
    kind TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    created_at BIGINT NOT NULL,
    created_by UUID,
    done_at BIGINT,
    done_by UUID
);
CREATE INDEX follow_ups_person ON follow_ups(person_id);
CREATE INDEX follow_ups_due ON follow_ups(organisation_id, status, due_date);

-- Append-only, hash-chained audit trail. audit_head holds the chain's tip; every writer updates it
-- first, which serialises appends on both backends.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    person_id UUID,
    address TEXT,
    outcome TEXT NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_person ON audit_events(person_id);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
