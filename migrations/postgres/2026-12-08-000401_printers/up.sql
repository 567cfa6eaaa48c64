-- Label printers of a warehouse (raw TCP, usually port 9100: the server sends the ZPL itself),
-- and the print jobs sent to them. A job is the record of one label printed: who asked, which
-- label, which printer, every try and how it ended. Jobs are made in the transaction of what
-- asked for them (a receive, a print request) and sent by the printing worker afterwards.
CREATE TABLE printers (
    warehouse_code TEXT NOT NULL REFERENCES warehouses(code),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    -- host:port of the printer's raw TCP port.
    address TEXT NOT NULL,
    dpi INTEGER NOT NULL,
    -- The labels loaded in it: 100x150 or 60x40.
    size TEXT NOT NULL,
    -- The area of the warehouse it serves (receiving = the dock).
    area TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (warehouse_code, code)
);

CREATE TABLE print_jobs (
    id BIGSERIAL PRIMARY KEY,
    warehouse_code TEXT NOT NULL REFERENCES warehouses(code),
    -- Not a reference: a job stays on record after its printer is removed.
    printer_code TEXT NOT NULL,
    -- The printer's name when the job was made.
    printer_name TEXT NOT NULL,
    -- return, bin or item; label_id is the return id or the bin code, gnum the item's line.
    label_kind TEXT NOT NULL,
    label_id TEXT NOT NULL,
    gnum INTEGER,
    -- receive (printed on receiving) or request (asked for).
    origin TEXT NOT NULL,
    -- queued, sending, sent, failed (waits for a person) or cancelled.
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    -- Failed tries in a row since the job was made or last asked for again.
    failures INTEGER NOT NULL,
    -- Why the last try failed (a reason code) and the system's words for it.
    error TEXT,
    error_detail TEXT,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    next_try_at TIMESTAMP,
    -- The worker sending it now, and until when its claim holds.
    claim TEXT,
    claimed_until TIMESTAMP,
    sent_at TIMESTAMP,
    -- What was sent: label size, resolution and bytes.
    size TEXT,
    dpi INTEGER,
    bytes INTEGER,
    -- The person who last reprinted or cancelled it, when, and what they said.
    retried_by TEXT,
    retried_at TIMESTAMP,
    note TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX print_jobs_due ON print_jobs(state, next_try_at);
CREATE INDEX print_jobs_by_warehouse ON print_jobs(warehouse_code, id);
CREATE INDEX print_jobs_by_label ON print_jobs(label_id);
