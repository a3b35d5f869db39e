-- reflectd server database, SQLite. Migration "0004_written_at".
-- When the author wrote a record: the writing device's clock (its create mutation's HLC), never later than the
-- server's receive time (created_at). NULL for records made before this migration: created_at stands in.
ALTER TABLE reflections ADD COLUMN written_at INTEGER;
ALTER TABLE comments ADD COLUMN written_at INTEGER;
