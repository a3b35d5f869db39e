-- reflectd server database, PostgreSQL. Migration "0003_sessions_and_login_attempts" (as
-- Schema/server/0003_sessions_and_login_attempts.sql).
-- Login attempts per handle and source address, counted when they start; sessions expire (idle and absolute).
CREATE TABLE login_attempts (
    handle TEXT NOT NULL,
    source TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_attempt_at BIGINT NOT NULL,
    PRIMARY KEY (handle, source)
);
CREATE INDEX login_attempts_last ON login_attempts(last_attempt_at);

ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;
CREATE INDEX sessions_member ON sessions(member_id);
