-- reflectd server database, PostgreSQL. Migration "0005_names" (as Schema/server/0005_names.sql).
ALTER TABLE clients ADD COLUMN name TEXT;
ALTER TABLE members ADD COLUMN name_changed_at BIGINT;
CREATE INDEX comments_author ON comments(author_id);
