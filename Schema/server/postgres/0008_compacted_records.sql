-- reflectd server database, PostgreSQL. Migration "0008_compacted_records" (see Schema/server/0008_compacted_records.sql).
CREATE TABLE compacted_records (
    id TEXT PRIMARY KEY NOT NULL
);
