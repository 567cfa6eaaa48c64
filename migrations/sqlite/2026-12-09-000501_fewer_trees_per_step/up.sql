-- Fewer B-trees written by every floor step (SQLite only; PostgreSQL keeps its tables).
--
-- An audit entry's seq becomes the table's rowid (`INTEGER PRIMARY KEY`): before, the table
-- had a rowid of its own and a separate index of seq, two trees written for every entry. The
-- entries are copied as they are, in seq order; the indexes and the append-only triggers are
-- made again as they were.
DROP TRIGGER audit_entries_no_update;
DROP TRIGGER audit_entries_no_delete;
ALTER TABLE audit_entries RENAME TO audit_entries_before;
CREATE TABLE audit_entries (
    seq INTEGER PRIMARY KEY NOT NULL,
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
INSERT INTO audit_entries (seq, at, actor, role, action, entity_kind, entity_id, warehouse,
                           enterprise, changes, reason, request_id, prev_hash, hash)
    SELECT seq, at, actor, role, action, entity_kind, entity_id, warehouse,
           enterprise, changes, reason, request_id, prev_hash, hash
    FROM audit_entries_before ORDER BY seq;
DROP TABLE audit_entries_before;
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

-- Stored answers are forgotten oldest first by rowid (`db::idempotency::purge`), the order
-- they were stored in: the index of their times, one more tree written for every answer, goes.
DROP INDEX idempotency_keys_by_age;
