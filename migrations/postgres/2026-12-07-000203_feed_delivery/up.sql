-- Where the push of the audit feed to customs stands (one row): the last sequence customs
-- acknowledged with a 2xx, and the last failure and the next try. Delivery resumes from here
-- after a restart; it never skips, it may repeat (the receiver drops repeats by sequence).
CREATE TABLE feed_delivery (
    id INTEGER PRIMARY KEY NOT NULL,
    delivered_seq BIGINT NOT NULL,
    delivered_at TIMESTAMP,
    failures INTEGER NOT NULL,
    last_error TEXT,
    next_try_at TIMESTAMP
);
INSERT INTO feed_delivery (id, delivered_seq, failures) VALUES (1, 0, 0);
