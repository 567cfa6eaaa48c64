DROP TABLE sign_in_throttle;
CREATE TABLE login_throttle (
    username TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
DROP INDEX sessions_by_user;
DROP INDEX sessions_by_token_id;
ALTER TABLE sessions DROP COLUMN scope;
ALTER TABLE sessions DROP COLUMN name;
ALTER TABLE sessions DROP COLUMN token_id;
