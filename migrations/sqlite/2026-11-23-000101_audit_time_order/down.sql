CREATE INDEX audit_by_time ON audit_entries(at);
DROP INDEX audit_by_time_seq;
CREATE INDEX audit_by_warehouse_time ON audit_entries(warehouse, at);
DROP INDEX audit_by_warehouse_time_seq;
