-- Order classes, internship bases, agreements and visits with their links.
-- Booleans are INTEGER 0/1 (diesel's MultiConnection has no portable Bool);
-- dates are diesel's Date (TEXT here).
CREATE TABLE order_classes (
    id                    TEXT    NOT NULL PRIMARY KEY,
    enterprise_id         TEXT    NOT NULL REFERENCES enterprises (id),
    name                  TEXT    NOT NULL,
    name_key              TEXT    NOT NULL,
    major                 TEXT,
    cohort_year           INTEGER CHECK (cohort_year BETWEEN 1900 AND 2200),
    planned_size          INTEGER NOT NULL DEFAULT 0 CHECK (planned_size >= 0),
    enrolled_count        INTEGER NOT NULL DEFAULT 0 CHECK (enrolled_count >= 0),
    employed_count        INTEGER NOT NULL DEFAULT 0 CHECK (employed_count >= 0 AND employed_count <= enrolled_count),
    allow_over_enrollment INTEGER NOT NULL DEFAULT 0 CHECK (allow_over_enrollment IN (0, 1)),
    starts_on             TEXT,
    ends_on               TEXT,
    description           TEXT,
    stage                 TEXT    NOT NULL DEFAULT 'intention'
        CHECK (stage IN ('intention', 'negotiation', 'agreement', 'implementation', 'completed', 'terminated')),
    stage_changed_at      TEXT    NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    version               BIGINT  NOT NULL DEFAULT 1,
    archived_at           TEXT,
    CHECK (allow_over_enrollment = 1 OR enrolled_count <= planned_size),
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on > starts_on)
);
-- (id, enterprise_id) is unique so that an agreement can reference both: the order
-- class it covers must belong to the agreement's enterprise.
CREATE UNIQUE INDEX order_classes_id_enterprise_uq ON order_classes (id, enterprise_id);
CREATE INDEX order_classes_enterprise_idx ON order_classes (enterprise_id, created_at, id);
CREATE INDEX order_classes_created_idx ON order_classes (created_at, id);
CREATE INDEX order_classes_updated_idx ON order_classes (updated_at, id);
CREATE INDEX order_classes_name_sort_idx ON order_classes (name_key, id);
CREATE INDEX order_classes_stage_idx ON order_classes (stage, created_at, id);
CREATE INDEX order_classes_cohort_idx ON order_classes (cohort_year, created_at, id);
CREATE INDEX order_classes_archived_idx ON order_classes (archived_at);

CREATE TABLE internship_bases (
    id               TEXT    NOT NULL PRIMARY KEY,
    enterprise_id    TEXT    NOT NULL REFERENCES enterprises (id),
    name             TEXT    NOT NULL,
    name_key         TEXT    NOT NULL,
    location         TEXT,
    capacity         INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    positions        INTEGER NOT NULL DEFAULT 0 CHECK (positions >= 0),
    description      TEXT,
    stage            TEXT    NOT NULL DEFAULT 'intention'
        CHECK (stage IN ('intention', 'negotiation', 'agreement', 'implementation', 'completed', 'terminated')),
    stage_changed_at TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    version          BIGINT  NOT NULL DEFAULT 1,
    archived_at      TEXT
);
CREATE UNIQUE INDEX internship_bases_id_enterprise_uq ON internship_bases (id, enterprise_id);
CREATE INDEX internship_bases_enterprise_idx ON internship_bases (enterprise_id, created_at, id);
CREATE INDEX internship_bases_created_idx ON internship_bases (created_at, id);
CREATE INDEX internship_bases_updated_idx ON internship_bases (updated_at, id);
CREATE INDEX internship_bases_name_sort_idx ON internship_bases (name_key, id);
CREATE INDEX internship_bases_stage_idx ON internship_bases (stage, created_at, id);
CREATE INDEX internship_bases_archived_idx ON internship_bases (archived_at);

CREATE TABLE agreements (
    id                 TEXT   NOT NULL PRIMARY KEY,
    enterprise_id      TEXT   NOT NULL REFERENCES enterprises (id),
    order_class_id     TEXT,
    internship_base_id TEXT,
    title              TEXT   NOT NULL,
    title_key          TEXT   NOT NULL,
    number             TEXT,
    kind               TEXT   NOT NULL CHECK (kind IN ('framework', 'order_class', 'internship_base', 'other')),
    signed_on          TEXT,
    valid_from         TEXT   NOT NULL,
    valid_until        TEXT,
    document_url       TEXT,
    notes              TEXT,
    created_at         TEXT   NOT NULL,
    updated_at         TEXT   NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1,
    archived_at        TEXT,
    CHECK (valid_until IS NULL OR valid_until >= valid_from),
    CHECK (order_class_id IS NULL OR kind = 'order_class'),
    CHECK (internship_base_id IS NULL OR kind = 'internship_base'),
    -- A covered item belongs to the agreement's enterprise (not checked while NULL).
    FOREIGN KEY (order_class_id, enterprise_id) REFERENCES order_classes (id, enterprise_id),
    FOREIGN KEY (internship_base_id, enterprise_id) REFERENCES internship_bases (id, enterprise_id)
);
CREATE UNIQUE INDEX agreements_number_uq ON agreements (enterprise_id, number);
CREATE INDEX agreements_enterprise_idx ON agreements (enterprise_id, created_at, id);
CREATE INDEX agreements_order_class_idx ON agreements (order_class_id);
CREATE INDEX agreements_internship_base_idx ON agreements (internship_base_id);
CREATE INDEX agreements_created_idx ON agreements (created_at, id);
CREATE INDEX agreements_updated_idx ON agreements (updated_at, id);
CREATE INDEX agreements_valid_until_idx ON agreements (valid_until, id);
CREATE INDEX agreements_valid_from_idx ON agreements (valid_from, id);
CREATE INDEX agreements_kind_idx ON agreements (kind, created_at, id);
CREATE INDEX agreements_archived_idx ON agreements (archived_at);

CREATE TABLE visits (
    id            TEXT   NOT NULL PRIMARY KEY,
    title         TEXT   NOT NULL,
    starts_at     TEXT   NOT NULL,
    ends_at       TEXT,
    direction     TEXT   NOT NULL CHECK (direction IN ('inbound', 'outbound', 'online')),
    location      TEXT,
    purpose       TEXT,
    summary       TEXT,
    outcome       TEXT,
    follow_up     TEXT,
    follow_up_due TEXT,
    status        TEXT   NOT NULL CHECK (status IN ('planned', 'held', 'cancelled')),
    -- Title, purpose, summary and outcome, normalised like name keys, for `q=`.
    search_text   TEXT   NOT NULL,
    created_at    TEXT   NOT NULL,
    updated_at    TEXT   NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    archived_at   TEXT,
    CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX visits_starts_idx ON visits (starts_at, id);
CREATE INDEX visits_created_idx ON visits (created_at, id);
CREATE INDEX visits_updated_idx ON visits (updated_at, id);
CREATE INDEX visits_status_idx ON visits (status, starts_at, id);
CREATE INDEX visits_direction_idx ON visits (direction, starts_at, id);
CREATE INDEX visits_archived_idx ON visits (archived_at);

-- starts_at is copied here so that "visits of an enterprise in a date range, newest
-- first" is one index range scan.
CREATE TABLE visit_enterprises (
    visit_id      TEXT NOT NULL REFERENCES visits (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    starts_at     TEXT NOT NULL,
    PRIMARY KEY (visit_id, enterprise_id)
);
CREATE INDEX visit_enterprises_enterprise_idx ON visit_enterprises (enterprise_id, starts_at, visit_id);

CREATE TABLE visit_participants (
    visit_id       TEXT NOT NULL REFERENCES visits (id),
    participant_id TEXT NOT NULL REFERENCES participants (id),
    role           TEXT NOT NULL CHECK (role IN ('host', 'guest', 'speaker', 'attendee')),
    starts_at      TEXT NOT NULL,
    PRIMARY KEY (visit_id, participant_id)
);
CREATE INDEX visit_participants_participant_idx ON visit_participants (participant_id, starts_at, visit_id);

CREATE TABLE visit_order_classes (
    visit_id       TEXT NOT NULL REFERENCES visits (id),
    order_class_id TEXT NOT NULL REFERENCES order_classes (id),
    PRIMARY KEY (visit_id, order_class_id)
);
CREATE INDEX visit_order_classes_order_class_idx ON visit_order_classes (order_class_id);

CREATE TABLE visit_internship_bases (
    visit_id           TEXT NOT NULL REFERENCES visits (id),
    internship_base_id TEXT NOT NULL REFERENCES internship_bases (id),
    PRIMARY KEY (visit_id, internship_base_id)
);
CREATE INDEX visit_internship_bases_base_idx ON visit_internship_bases (internship_base_id);
