-- reflectd server database, SQLite. Migration "0005_names".
-- The name a member gave a device (`reflect init --device-name`), sent with its pushes and shown to that member
-- in conflicts on their other devices. NULL: no name given.
ALTER TABLE clients ADD COLUMN name TEXT;
-- When the member last changed their display name (renames are limited to one an hour: each re-sends the
-- member's shared records to every device). NULL: never.
ALTER TABLE members ADD COLUMN name_changed_at INTEGER;
-- A rename finds the member's comments by author.
CREATE INDEX comments_author ON comments(author_id);
