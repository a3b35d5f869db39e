-- reflectd server database, PostgreSQL. Migration "0005_names" (as Schema/server/0005_names.sql).
ALTER TABLE clients ADD COLUMN name TEXT;
