-- SQLite only (see migrations/sqlite): there an audit entry's seq becomes the table's rowid
-- and the stored answers lose their index of times. PostgreSQL's audit table already keeps one
-- index of seq beside its heap, and its answers are still forgotten by time through that
-- index (`db::idempotency::purge`). Nothing changes here.
SELECT 1;
