-- reflectd server database, SQLite. Migration "0002_login_failures".
-- Failed logins per handle, kept in the database (not in process memory) so that every server behind one
-- database throttles password guessing together. A row is forgotten a day after its last failure.
CREATE TABLE login_failures (
    handle TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
