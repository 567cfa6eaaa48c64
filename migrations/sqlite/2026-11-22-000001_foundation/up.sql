-- Parties, eligibility, places, people, sessions, idempotency and the audit chain.
CREATE TABLE enterprises (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kinds TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE credit_ratings (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    enterprise_code TEXT NOT NULL REFERENCES enterprises(code),
    rating TEXT NOT NULL,
    effective_from TIMESTAMP NOT NULL,
    reference TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX credit_ratings_by_enterprise ON credit_ratings(enterprise_code, effective_from);

CREATE TABLE warehouses (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    operator_code TEXT NOT NULL REFERENCES enterprises(code),
    zone TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE bins (
    warehouse_code TEXT NOT NULL REFERENCES warehouses(code),
    code TEXT NOT NULL,
    area TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (warehouse_code, code)
);

CREATE TABLE cameras (
    warehouse_code TEXT NOT NULL REFERENCES warehouses(code),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    area TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (warehouse_code, code)
);

CREATE TABLE users (
    username TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    warehouse_code TEXT REFERENCES warehouses(code),
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES users(username),
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE login_throttle (
    username TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);

CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

CREATE TABLE audit_entries (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    warehouse TEXT,
    enterprise TEXT,
    changes TEXT NOT NULL,
    reason TEXT,
    request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_by_warehouse_time ON audit_entries(warehouse, at);
CREATE INDEX audit_by_time ON audit_entries(at);
CREATE INDEX audit_by_entity ON audit_entries(entity_kind, entity_id);
CREATE INDEX audit_by_actor ON audit_entries(actor);
CREATE INDEX audit_by_enterprise ON audit_entries(enterprise);

-- The audit log is append-only: the database itself refuses to change or remove an entry.
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
