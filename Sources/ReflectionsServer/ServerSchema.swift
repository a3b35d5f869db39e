/// The SQL of `Schema/server/*.sql`, one constant per migration (made by Scripts/embed-schema.py; a test
/// checks that they match the files).
enum ServerSchema {
    /// `Schema/server/0001_initial.sql`
    static let v0001 = """
        -- reflectd server database, SQLite. Migration "0001_initial".
        -- Reviewed source of truth: Sources/ReflectionsServer/ServerSchema.swift holds exactly this text (made by
        -- Scripts/embed-schema.py), and a test checks that the migrated database matches it. Never edit once merged: add 0002_….
        -- Conventions: ids are UUID text made by clients (upper case); times are milliseconds since 1970; versions and
        -- sequence numbers are integers.

        CREATE TABLE members (
            id TEXT PRIMARY KEY NOT NULL,
            handle TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('member', 'moderator')),
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        ) STRICT;

        -- Opaque bearer tokens: only their SHA-256 is stored.
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY NOT NULL,
            member_id TEXT NOT NULL REFERENCES members(id),
            created_at INTEGER NOT NULL
        ) STRICT;

        -- A client id (a device) belongs to the member who first used it.
        CREATE TABLE clients (
            id TEXT PRIMARY KEY NOT NULL,
            member_id TEXT NOT NULL REFERENCES members(id),
            first_seen_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE prompts (
            id INTEGER PRIMARY KEY NOT NULL,
            text TEXT NOT NULL
        ) STRICT;

        -- seq: the change-log sequence number of the record's latest change (what pull orders by).
        -- first_shared_seq: the first sequence at which other members could see the record (NULL: never), so that a
        -- removal or tombstone only reaches members who may hold the record.
        CREATE TABLE reflections (
            id TEXT PRIMARY KEY NOT NULL,
            author_id TEXT NOT NULL REFERENCES members(id),
            prompt_id INTEGER,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            visibility TEXT NOT NULL CHECK (visibility IN ('private', 'community')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL,
            hlc_physical INTEGER NOT NULL,
            hlc_counter INTEGER NOT NULL,
            hlc_node TEXT NOT NULL,
            seq INTEGER NOT NULL,
            first_shared_seq INTEGER
        ) STRICT;
        CREATE INDEX reflections_seq ON reflections(seq);
        CREATE INDEX reflections_author ON reflections(author_id);

        CREATE TABLE comments (
            id TEXT PRIMARY KEY NOT NULL,
            reflection_id TEXT NOT NULL REFERENCES reflections(id),
            author_id TEXT NOT NULL REFERENCES members(id),
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            hidden INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL,
            hlc_physical INTEGER NOT NULL,
            hlc_counter INTEGER NOT NULL,
            hlc_node TEXT NOT NULL,
            seq INTEGER NOT NULL,
            first_shared_seq INTEGER
        ) STRICT;
        CREATE INDEX comments_seq ON comments(seq);
        CREATE INDEX comments_reflection ON comments(reflection_id);

        -- Every version of every record, as JSON of RecordFields: the base of a three-way merge.
        -- producer_client_id / fast_forward: the client whose mutation made the version, and whether it was applied
        -- as sent (no merge). A client's later edit that started from an older version is merged against the newest
        -- version that its own fast-forward mutations made since, so that a device never conflicts with itself.
        CREATE TABLE record_versions (
            entity TEXT NOT NULL CHECK (entity IN ('reflection', 'comment')),
            record_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            fields TEXT NOT NULL,
            producer_client_id TEXT,
            fast_forward INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (entity, record_id, version)
        ) STRICT, WITHOUT ROWID;

        -- Versions that lost a true conflict, kept whole until the author resolves them.
        CREATE TABLE conflict_revisions (
            id TEXT PRIMARY KEY NOT NULL,
            entity TEXT NOT NULL CHECK (entity IN ('reflection', 'comment')),
            record_id TEXT NOT NULL,
            author_id TEXT NOT NULL REFERENCES members(id),
            kind TEXT NOT NULL,
            fields TEXT NOT NULL,
            base TEXT,
            base_version INTEGER,
            client_id TEXT NOT NULL,
            hlc TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            resolved_at INTEGER
        ) STRICT;
        CREATE INDEX conflict_revisions_record ON conflict_revisions(record_id) WHERE resolved_at IS NULL;

        -- The idempotency ledger: each (client, mutation) once, with the result it got the first time.
        CREATE TABLE applied_mutations (
            client_id TEXT NOT NULL,
            mutation_id TEXT NOT NULL,
            member_id TEXT NOT NULL,
            result TEXT NOT NULL,
            applied_at INTEGER NOT NULL,
            PRIMARY KEY (client_id, mutation_id)
        ) STRICT, WITHOUT ROWID;

        -- The change log: every accepted change, in order. seq is the sync cursor.
        CREATE TABLE change_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            member_id TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            client_id TEXT,
            mutation_id TEXT,
            operation TEXT NOT NULL,
            outcome TEXT NOT NULL,
            at INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX change_log_member ON change_log(member_id, seq);
        """
    /// `Schema/server/0002_login_failures.sql`
    static let v0002 = """
        -- reflectd server database, SQLite. Migration "0002_login_failures".
        -- Failed logins per handle, kept in the database (not in process memory) so that every server behind one
        -- database throttles password guessing together. A row is forgotten a day after its last failure.
        CREATE TABLE login_failures (
            handle TEXT PRIMARY KEY NOT NULL,
            failures INTEGER NOT NULL,
            locked_until INTEGER NOT NULL,
            last_failure_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        """
    /// `Schema/server/0003_sessions_and_login_attempts.sql`
    static let v0003 = """
        -- reflectd server database, SQLite. Migration "0003_sessions_and_login_attempts".
        -- Login attempts per handle *and* source address, counted when they start (so that attempts in flight count),
        -- so that guesses from one address cannot lock the member out from another. Replaces login_failures, which
        -- stays (additive only) but is no longer written. A row is forgotten a day after its last attempt.
        CREATE TABLE login_attempts (
            handle TEXT NOT NULL,
            source TEXT NOT NULL,
            failures INTEGER NOT NULL,
            locked_until INTEGER NOT NULL,
            last_attempt_at INTEGER NOT NULL,
            PRIMARY KEY (handle, source)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX login_attempts_last ON login_attempts(last_attempt_at);

        -- Sessions expire: after an idle period (last_used_at, updated at most hourly; NULL: never used since it was
        -- made) and after an absolute lifetime from created_at. reflectd user sessions lists and revokes them.
        ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;
        CREATE INDEX sessions_member ON sessions(member_id);
        """
    /// `Schema/server/0004_written_at.sql`
    static let v0004 = """
        -- reflectd server database, SQLite. Migration "0004_written_at".
        -- When the author wrote a record: the writing device's clock (its create mutation's HLC), never later than the
        -- server's receive time (created_at). NULL for records made before this migration: created_at stands in.
        ALTER TABLE reflections ADD COLUMN written_at INTEGER;
        ALTER TABLE comments ADD COLUMN written_at INTEGER;
        """
    /// `Schema/server/0005_names.sql`
    static let v0005 = """
        -- reflectd server database, SQLite. Migration "0005_names".
        -- The name a member gave a device (`reflect init --device-name`), sent with its pushes and shown to that member
        -- in conflicts on their other devices. NULL: no name given.
        ALTER TABLE clients ADD COLUMN name TEXT;
        -- When the member last changed their display name (renames are limited to one an hour: each re-sends the
        -- member's shared records to every device). NULL: never.
        ALTER TABLE members ADD COLUMN name_changed_at INTEGER;
        -- A rename finds the member's comments by author.
        CREATE INDEX comments_author ON comments(author_id);
        """
    /// `Schema/server/0006_epoch.sql`
    static let v0006 = """
        -- reflectd server database, SQLite. Migration "0006_epoch".
        -- The database's epoch: a random id, made when the database is created and made anew when it is restored from a
        -- backup (`reflectd restore`, `reflectd mark-restored`). Clients remember it; a different one means the server
        -- went back in time, and they resync (re-sending what the restored server lacks) instead of trusting their cursor.
        CREATE TABLE server_epoch (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            epoch TEXT NOT NULL,
            since INTEGER NOT NULL
        ) STRICT;
        """
    /// `Schema/server/0007_horizon.sql`
    static let v0007 = """
        -- reflectd server database, SQLite. Migration "0007_horizon".
        -- The compaction horizon: the newest change-log sequence number of a tombstone that compaction removed. A device
        -- whose cursor is below it may have missed that delete, so its pull (or push) gets 410 `cursor_expired` and it
        -- resyncs. 0: nothing removed yet.
        ALTER TABLE server_epoch ADD COLUMN horizon INTEGER NOT NULL DEFAULT 0;
        """
    /// `Schema/server/0008_compacted_records.sql`
    static let v0008 = """
        -- reflectd server database, SQLite. Migration "0008_compacted_records".
        -- The ids of records that compaction removed (ids only, nothing of their content): a create naming one again is
        -- `already_exists`, so a device that re-sends an old create, or still holds a copy, can never bring back a
        -- record its author deleted.
        CREATE TABLE compacted_records (
            id TEXT PRIMARY KEY NOT NULL
        ) STRICT, WITHOUT ROWID;
        """
    /// Every migration, in order: (name, SQL).
    static let migrations: [(name: String, sql: String)] = [
        ("0001_initial", v0001),
        ("0002_login_failures", v0002),
        ("0003_sessions_and_login_attempts", v0003),
        ("0004_written_at", v0004),
        ("0005_names", v0005),
        ("0006_epoch", v0006),
        ("0007_horizon", v0007),
        ("0008_compacted_records", v0008),
    ]
}
