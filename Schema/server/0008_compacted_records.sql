-- reflectd server database, SQLite. Migration "0008_compacted_records".
-- The ids of records that compaction removed (ids only, nothing of their content): a create naming one again is
-- `already_exists`, so a device that re-sends an old create, or still holds a copy, can never bring back a
-- record its author deleted.
CREATE TABLE compacted_records (
    id TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;
