-- reflectd server database, SQLite. Migration "0005_names".
-- The name a member gave a device (`reflect init --device-name`), sent with its pushes and shown to that member
-- in conflicts on their other devices. NULL: no name given.
ALTER TABLE clients ADD COLUMN name TEXT;
