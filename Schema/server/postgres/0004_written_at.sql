-- reflectd server database, PostgreSQL. Migration "0004_written_at" (as Schema/server/0004_written_at.sql).
ALTER TABLE reflections ADD COLUMN written_at BIGINT;
ALTER TABLE comments ADD COLUMN written_at BIGINT;
