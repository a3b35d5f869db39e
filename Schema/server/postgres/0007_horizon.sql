-- reflectd server database, PostgreSQL. Migration "0007_horizon" (see Schema/server/0007_horizon.sql).
ALTER TABLE server_epoch ADD COLUMN horizon BIGINT NOT NULL DEFAULT 0;
