-- API tokens: only a hash of each token is kept; the token itself is shown once.
CREATE TABLE api_tokens (
    id           TEXT NOT NULL PRIMARY KEY,
    -- Unique for ever, revoked tokens included, so that a name in the audit trail
    -- names one token.
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('feed', 'viewer', 'officer', 'admin')),
    -- SHA-256 of the whole token, hex.
    token_hash   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    expires_at   TEXT,
    revoked_at   TEXT
);

-- Who changed what: one row per change, written in the change's own transaction.
CREATE TABLE audit_log (
    id          TEXT NOT NULL PRIMARY KEY,
    at          TEXT NOT NULL,
    -- NULL for changes made from the command line.
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'archive', 'restore', 'move', 'revoke')),
    entity_kind TEXT NOT NULL CHECK (entity_kind IN ('enterprise', 'participant', 'visit', 'order_class', 'internship_base', 'agreement', 'token')),
    entity_id   TEXT NOT NULL,
    -- JSON: {"field": {"old": …, "new": …}, …}
    changes     TEXT NOT NULL,
    request_id  TEXT
);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_id, at, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_name, at, id);
