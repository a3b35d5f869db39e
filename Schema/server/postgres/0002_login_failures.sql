-- reflectd server database, PostgreSQL. Migration "0002_login_failures" (as Schema/server/0002_login_failures.sql).
-- Failed logins per handle, shared by every server, so that they throttle password guessing together.
CREATE TABLE login_failures (
    handle TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);
