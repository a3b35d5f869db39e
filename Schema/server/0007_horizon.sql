-- reflectd server database, SQLite. Migration "0007_horizon".
-- The compaction horizon: the newest change-log sequence number of a tombstone that compaction removed. A device
-- whose cursor is below it may have missed that delete, so its pull (or push) gets 410 `cursor_expired` and it
-- resyncs. 0: nothing removed yet.
ALTER TABLE server_epoch ADD COLUMN horizon INTEGER NOT NULL DEFAULT 0;
