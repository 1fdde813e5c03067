-- Every stage move of an enterprise, order class or internship base, never edited.
CREATE TABLE stage_transitions (
    id            TEXT NOT NULL PRIMARY KEY,
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('enterprise', 'order_class', 'internship_base')),
    subject_id    TEXT NOT NULL,
    -- The subject's enterprise (the subject itself for an enterprise), for timelines
    -- and report filters without a join per kind.
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    -- NULL for the transition recorded when an item is created at a later stage.
    from_stage    TEXT CHECK (from_stage IN ('intention', 'negotiation', 'agreement', 'implementation', 'completed', 'terminated')),
    to_stage      TEXT NOT NULL CHECK (to_stage IN ('intention', 'negotiation', 'agreement', 'implementation', 'completed', 'terminated')),
    occurred_at   TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    actor         TEXT,
    note          TEXT,
    visit_id      TEXT REFERENCES visits (id),
    agreement_id  TEXT REFERENCES agreements (id)
);
CREATE INDEX stage_transitions_subject_idx ON stage_transitions (subject_kind, subject_id, occurred_at, id);
CREATE INDEX stage_transitions_enterprise_idx ON stage_transitions (enterprise_id, occurred_at, id);
CREATE INDEX stage_transitions_to_stage_idx ON stage_transitions (to_stage, occurred_at);
