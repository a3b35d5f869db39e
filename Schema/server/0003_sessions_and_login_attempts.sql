-- reflectd server database, SQLite. Migration "0003_sessions_and_login_attempts".
-- Login attempts per handle *and* source address, counted when they start (so that attempts in flight count),
-- so that guesses from one address cannot lock the member out from another. Replaces login_failures, which
-- stays (additive only) but is no longer written. A row is forgotten a day after its last attempt.
CREATE TABLE login_attempts (
    handle TEXT NOT NULL,
    source TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    PRIMARY KEY (handle, source)
) STRICT, WITHOUT ROWID;
CREATE INDEX login_attempts_last ON login_attempts(last_attempt_at);

-- Sessions expire: after an idle period (last_used_at, updated at most hourly; NULL: never used since it was
-- made) and after an absolute lifetime from created_at. reflectd user sessions lists and revokes them.
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
CREATE INDEX sessions_member ON sessions(member_id);
