CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);

DROP TRIGGER audit_entries_no_update;
DROP TRIGGER audit_entries_no_delete;
ALTER TABLE audit_entries RENAME TO audit_entries_by_seq;
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
INSERT INTO audit_entries SELECT * FROM audit_entries_by_seq ORDER BY seq;
DROP TABLE audit_entries_by_seq;
CREATE INDEX audit_by_warehouse_time_seq ON audit_entries(warehouse, at, seq);
CREATE INDEX audit_by_time_seq ON audit_entries(at, seq);
CREATE INDEX audit_by_entity ON audit_entries(entity_kind, entity_id);
CREATE INDEX audit_by_actor ON audit_entries(actor);
CREATE INDEX audit_by_enterprise ON audit_entries(enterprise);
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
