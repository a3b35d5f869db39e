-- reflectd server database, PostgreSQL. Migration "0006_epoch" (see Schema/server/0006_epoch.sql).
CREATE TABLE server_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,
    since BIGINT NOT NULL
);
