-- Every stage move of an enterprise, order class or internship base, never edited.
CREATE TABLE stage_transitions (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('enterprise', 'order_class', 'internship_base')),
    subject_id    TEXT COLLATE "C" NOT NULL,
    -- The subject's enterprise (the subject itself for an enterprise), for timelines
    -- and report filters without a join per kind.
    enterprise_id TEXT COLLATE "C" NOT NULL REFERENCES enterprises (id),
    -- NULL for the transition recorded when an item is created at a later stage.
    from_stage    TEXT CHECK (from_stage IN ('intention', 'negotiation', 'agreement', 'implementation', 'completed', 'terminated')),
    to_stage      TEXT NOT NULL CHECK (to_stage IN ('intention', 'negotiation', 'agreement', 'implementation', 'completed', 'terminated')),
    occurred_at   TIMESTAMP NOT NULL,
    recorded_at   TIMESTAMP NOT NULL,
    actor         TEXT,
    note          TEXT,
    visit_id      TEXT COLLATE "C" REFERENCES visits (id),
    agreement_id  TEXT COLLATE "C" REFERENCES agreements (id)
);
CREATE INDEX stage_transitions_subject_idx ON stage_transitions (subject_kind, subject_id, occurred_at, id);
CREATE INDEX stage_transitions_enterprise_idx ON stage_transitions (enterprise_id, occurred_at, id);
CREATE INDEX stage_transitions_to_stage_idx ON stage_transitions (to_stage, occurred_at);
