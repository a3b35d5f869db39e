-- reflect client database. Migration "0002_author_names".
-- The author's display name as the server last sent it with the record (NULL until the record is synced, and
-- from servers that predate names). A rename on the server re-sends the author's records, so this follows it.
ALTER TABLE reflections ADD COLUMN author_name TEXT;
ALTER TABLE comments ADD COLUMN author_name TEXT;
-- Records pulled before this migration carry no name: pull everything once more (applying a record again is
-- harmless, and pending local edits are rebased as on any pull).
UPDATE settings SET value = '0' WHERE key = 'cursor';
