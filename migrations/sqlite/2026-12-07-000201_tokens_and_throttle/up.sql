-- Bearer tokens get a public id (to list and revoke them by; never the token or its hash), a
-- name and a scope (`full`: what the user's role may do; `customs`: read the audit log, its
-- verification and the exports only). Cookie sessions have no id or name and the full scope.
ALTER TABLE sessions ADD COLUMN token_id TEXT;
ALTER TABLE sessions ADD COLUMN name TEXT;
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
UPDATE sessions SET token_id = substr(token_hash, 1, 16), name = 'token' WHERE kind = 'token';
CREATE UNIQUE INDEX sessions_by_token_id ON sessions(token_id);
CREATE INDEX sessions_by_user ON sessions(username, kind);

-- The sign-in throttle slows down failed sign-ins per user name AND client address, with
-- growing delays, instead of locking a name for everybody.
DROP TABLE login_throttle;
CREATE TABLE sign_in_throttle (
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL,
    delayed_until TIMESTAMP NOT NULL,
    PRIMARY KEY (username, client)
);
