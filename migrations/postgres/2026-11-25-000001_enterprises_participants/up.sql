-- Enterprises and participants. Portable types: ids TEXT (UUID v7), timestamps as
-- TIMESTAMP (UTC, without time zone), closed vocabularies as TEXT with CHECK.
CREATE TABLE enterprises (
    id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name             TEXT    NOT NULL,
    name_key         TEXT    COLLATE "C" NOT NULL,
    credit_code      TEXT,
    kind             TEXT    NOT NULL
        CHECK (kind IN ('company', 'industrial_park', 'association', 'government', 'institution')),
    industry         TEXT,
    region           TEXT,
    address          TEXT,
    website          TEXT,
    description      TEXT,
    parent_id        TEXT COLLATE "C"    REFERENCES enterprises (id),
    stage            TEXT    NOT NULL DEFAULT 'intention'
        CHECK (stage IN ('intention', 'negotiation', 'agreement', 'implementation', 'completed', 'terminated')),
    stage_changed_at TIMESTAMP NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          BIGINT  NOT NULL DEFAULT 1,
    archived_at      TIMESTAMP,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX enterprises_name_key_uq ON enterprises (name_key);
CREATE UNIQUE INDEX enterprises_credit_code_uq ON enterprises (credit_code);
CREATE INDEX enterprises_created_idx ON enterprises (created_at, id);
CREATE INDEX enterprises_updated_idx ON enterprises (updated_at, id);
CREATE INDEX enterprises_name_sort_idx ON enterprises (name_key, id);
CREATE INDEX enterprises_kind_idx ON enterprises (kind, created_at, id);
CREATE INDEX enterprises_stage_idx ON enterprises (stage, created_at, id);
CREATE INDEX enterprises_parent_idx ON enterprises (parent_id, created_at, id);
CREATE INDEX enterprises_industry_idx ON enterprises (industry, created_at, id);
CREATE INDEX enterprises_region_idx ON enterprises (region, created_at, id);
CREATE INDEX enterprises_archived_idx ON enterprises (archived_at);

CREATE TABLE participants (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    full_name     TEXT   NOT NULL,
    name_key      TEXT   COLLATE "C" NOT NULL,
    side          TEXT   NOT NULL CHECK (side IN ('school', 'partner')),
    enterprise_id TEXT COLLATE "C"   REFERENCES enterprises (id),
    title         TEXT,
    department    TEXT,
    email         TEXT,
    phone         TEXT,
    notes         TEXT,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    archived_at   TIMESTAMP,
    CHECK ((side = 'partner' AND enterprise_id IS NOT NULL) OR (side = 'school' AND enterprise_id IS NULL))
);
CREATE INDEX participants_created_idx ON participants (created_at, id);
CREATE INDEX participants_updated_idx ON participants (updated_at, id);
CREATE INDEX participants_name_sort_idx ON participants (name_key, id);
CREATE INDEX participants_side_idx ON participants (side, created_at, id);
CREATE INDEX participants_enterprise_idx ON participants (enterprise_id, created_at, id);
CREATE INDEX participants_archived_idx ON participants (archived_at);
