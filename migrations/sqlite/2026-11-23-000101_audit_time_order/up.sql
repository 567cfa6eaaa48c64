-- The audit log is read newest first by time (ties by sequence): one index per way in
-- (warehouse + time, time alone) that holds that order, so a filtered first page reads about
-- one page of index entries however long the time window. They replace the (warehouse, at)
-- and (at) indexes, so appending maintains as many indexes as before.
CREATE INDEX audit_by_warehouse_time_seq ON audit_entries(warehouse, at, seq);
DROP INDEX audit_by_warehouse_time;
CREATE INDEX audit_by_time_seq ON audit_entries(at, seq);
DROP INDEX audit_by_time;
