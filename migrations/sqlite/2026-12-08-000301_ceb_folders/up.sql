-- The customs client's folders (BR_CEB_OUTBOX, BR_CEB_INBOX).
--
-- ceb_outbox: each CEB625 return application the warehouse files, as the message written for
-- the customs client. The row is made in the transaction that files the application; a worker
-- writes the file after the commit and then sets written_at, so a crash between the two writes
-- the same file (same name, same bytes) again, never a different one.
CREATE TABLE ceb_outbox (
    message_guid TEXT PRIMARY KEY NOT NULL,
    return_id TEXT NOT NULL REFERENCES returns (id),
    file_name TEXT NOT NULL,
    xml TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    written_at TIMESTAMP
);
CREATE UNIQUE INDEX ceb_outbox_return ON ceb_outbox (return_id);
CREATE INDEX ceb_outbox_unwritten ON ceb_outbox (written_at, created_at);

-- ceb_inbox_files: each file taken from the inbox, recorded in the transaction that imported
-- it, with where it is moved (done/ or failed/). Until moved_at is set the move may not have
-- happened: after a crash the file is moved as recorded, never imported again.
CREATE TABLE ceb_inbox_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    kind TEXT,
    message_guid TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('done', 'failed')),
    summary TEXT NOT NULL,
    reason TEXT,
    moved_to TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    moved_at TIMESTAMP
);
CREATE INDEX ceb_inbox_files_pending ON ceb_inbox_files (moved_at);

-- Where each folder's worker stands: its last look at the folder and its last trouble.
CREATE TABLE ceb_folder_state (
    folder TEXT PRIMARY KEY NOT NULL CHECK (folder IN ('inbox', 'outbox')),
    scanned_at TIMESTAMP,
    last_error TEXT,
    error_at TIMESTAMP
);
INSERT INTO ceb_folder_state (folder) VALUES ('inbox');
INSERT INTO ceb_folder_state (folder) VALUES ('outbox');
