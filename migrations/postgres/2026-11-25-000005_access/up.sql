-- API tokens: only a hash of each token is kept; the token itself is shown once.
CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    -- Unique for ever, revoked tokens included, so that a name in the audit trail
    -- names one token.
    name         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('feed', 'viewer', 'officer', 'admin')),
    -- SHA-256 of the whole token, hex.
    token_hash   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    expires_at   TIMESTAMP,
    revoked_at   TIMESTAMP
);

-- Who changed what: one row per change, written in the change's own transaction.
CREATE TABLE audit_log (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    at          TIMESTAMP NOT NULL,
    -- NULL for changes made from the command line.
    actor_id    TEXT COLLATE "C",
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'archive', 'restore', 'move', 'revoke')),
    entity_kind TEXT NOT NULL CHECK (entity_kind IN ('enterprise', 'participant', 'visit', 'order_class', 'internship_base', 'agreement', 'token')),
    entity_id   TEXT COLLATE "C" NOT NULL,
    -- JSON: {"field": {"old": …, "new": …}, …}
    changes     TEXT NOT NULL,
    request_id  TEXT
);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_id, at, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_name, at, id);
