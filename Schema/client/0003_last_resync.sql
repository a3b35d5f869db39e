-- reflect client database. Migration "0003_last_resync".
-- `reflect status` (and every sync's summary) shows the newest resync: without this index, finding it read the
-- whole sync log backwards whenever the device had never resynced (a no-op sync grew with the log).
CREATE INDEX sync_events_resync ON sync_events(id) WHERE outcome = 'resync';
