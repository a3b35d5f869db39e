-- reflectd server database, SQLite. Migration "0006_epoch".
-- The database's epoch: a random id, made when the database is created and made anew when it is restored from a
-- backup (`reflectd restore`, `reflectd mark-restored`). Clients remember it; a different one means the server
-- went back in time, and they resync (re-sending what the restored server lacks) instead of trusting their cursor.
CREATE TABLE server_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,
    since INTEGER NOT NULL
) STRICT;
