/// The SQL of `Schema/server/postgres/*.sql`, one constant per migration (made by Scripts/embed-schema.py; a test
/// checks that they match the files).
enum PostgresSchema {
    /// `Schema/server/postgres/0001_initial.sql`
    static let v0001 = """
        -- reflectd server database, PostgreSQL. Migration "0001_initial": the same tables as Schema/server/0001_initial.sql
        -- (the SQLite schema), in PostgreSQL's types, so that one set of queries (Sources/ReflectionsServer/SQLStore*.swift)
        -- runs on both. Reviewed source of truth: Sources/ReflectionsServer/PostgresSchema.swift holds exactly this text
        -- (made by Scripts/embed-schema.py). Never edit once merged: add 0003_….
        -- Conventions: ids are UUID text made by clients (upper case, as on the wire and in SQLite); times are
        -- milliseconds since 1970; versions and sequence numbers are BIGINT; flags are BOOLEAN. Handles sort byte-wise
        -- (COLLATE "C"), as in SQLite, whatever the database's locale.

        CREATE TABLE members (
            id TEXT PRIMARY KEY,
            handle TEXT COLLATE "C" NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('member', 'moderator')),
            password_hash TEXT NOT NULL,
            disabled BOOLEAN NOT NULL DEFAULT FALSE,
            created_at BIGINT NOT NULL
        );

        -- Opaque bearer tokens: only their SHA-256 is stored.
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(id),
            created_at BIGINT NOT NULL
        );

        -- A client id (a device) belongs to the member who first used it.
        CREATE TABLE clients (
            id TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members(id),
            first_seen_at BIGINT NOT NULL
        );

        CREATE TABLE prompts (
            id BIGINT PRIMARY KEY,
            text TEXT NOT NULL
        );

        -- seq: the change-log sequence number of the record's latest change (what pull orders by).
        -- first_shared_seq: the first sequence at which other members could see the record (NULL: never).
        CREATE TABLE reflections (
            id TEXT PRIMARY KEY,
            author_id TEXT NOT NULL REFERENCES members(id),
            prompt_id BIGINT,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            visibility TEXT NOT NULL CHECK (visibility IN ('private', 'community')),
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            deleted BOOLEAN NOT NULL DEFAULT FALSE,
            version BIGINT NOT NULL,
            hlc_physical BIGINT NOT NULL,
            hlc_counter BIGINT NOT NULL,
            hlc_node TEXT NOT NULL,
            seq BIGINT NOT NULL,
            first_shared_seq BIGINT
        );
        CREATE INDEX reflections_seq ON reflections(seq);
        CREATE INDEX reflections_author ON reflections(author_id);

        CREATE TABLE comments (
            id TEXT PRIMARY KEY,
            reflection_id TEXT NOT NULL REFERENCES reflections(id),
            author_id TEXT NOT NULL REFERENCES members(id),
            body TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            deleted BOOLEAN NOT NULL DEFAULT FALSE,
            hidden BOOLEAN NOT NULL DEFAULT FALSE,
            version BIGINT NOT NULL,
            hlc_physical BIGINT NOT NULL,
            hlc_counter BIGINT NOT NULL,
            hlc_node TEXT NOT NULL,
            seq BIGINT NOT NULL,
            first_shared_seq BIGINT
        );
        CREATE INDEX comments_seq ON comments(seq);
        CREATE INDEX comments_reflection ON comments(reflection_id);

        -- Every version of every record, as JSON of RecordFields (TEXT, not JSONB: kept byte for byte).
        CREATE TABLE record_versions (
            entity TEXT NOT NULL CHECK (entity IN ('reflection', 'comment')),
            record_id TEXT NOT NULL,
            version BIGINT NOT NULL,
            fields TEXT NOT NULL,
            producer_client_id TEXT,
            fast_forward BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (entity, record_id, version)
        );

        -- Versions that lost a true conflict, kept whole until the author resolves them.
        CREATE TABLE conflict_revisions (
            id TEXT PRIMARY KEY,
            entity TEXT NOT NULL CHECK (entity IN ('reflection', 'comment')),
            record_id TEXT NOT NULL,
            author_id TEXT NOT NULL REFERENCES members(id),
            kind TEXT NOT NULL,
            fields TEXT NOT NULL,
            base TEXT,
            base_version BIGINT,
            client_id TEXT NOT NULL,
            hlc TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            resolved_at BIGINT
        );
        CREATE INDEX conflict_revisions_record ON conflict_revisions(record_id) WHERE resolved_at IS NULL;

        -- The idempotency ledger: each (client, mutation) once, with the result it got the first time.
        CREATE TABLE applied_mutations (
            client_id TEXT NOT NULL,
            mutation_id TEXT NOT NULL,
            member_id TEXT NOT NULL,
            result TEXT NOT NULL,
            applied_at BIGINT NOT NULL,
            PRIMARY KEY (client_id, mutation_id)
        );

        -- The change log: every accepted change, in order. seq is the sync cursor. Its numbers are handed out only
        -- while a push holds the change-feed lock (pg_advisory_xact_lock), so they commit in order: a reader that sees
        -- sequence n committed sees every lower one too, on every server.
        CREATE TABLE change_log (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            member_id TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            client_id TEXT,
            mutation_id TEXT,
            operation TEXT NOT NULL,
            outcome TEXT NOT NULL,
            at BIGINT NOT NULL
        );
        CREATE INDEX change_log_member ON change_log(member_id, seq);
        """
    /// `Schema/server/postgres/0002_login_failures.sql`
    static let v0002 = """
        -- reflectd server database, PostgreSQL. Migration "0002_login_failures" (as Schema/server/0002_login_failures.sql).
        -- Failed logins per handle, shared by every server, so that they throttle password guessing together.
        CREATE TABLE login_failures (
            handle TEXT PRIMARY KEY,
            failures BIGINT NOT NULL,
            locked_until BIGINT NOT NULL,
            last_failure_at BIGINT NOT NULL
        );
        """
    /// `Schema/server/postgres/0003_sessions_and_login_attempts.sql`
    static let v0003 = """
        -- reflectd server database, PostgreSQL. Migration "0003_sessions_and_login_attempts" (as
        -- Schema/server/0003_sessions_and_login_attempts.sql).
        -- Login attempts per handle and source address, counted when they start; sessions expire (idle and absolute).
        CREATE TABLE login_attempts (
            handle TEXT NOT NULL,
            source TEXT NOT NULL,
            failures BIGINT NOT NULL,
            locked_until BIGINT NOT NULL,
            last_attempt_at BIGINT NOT NULL,
            PRIMARY KEY (handle, source)
        );
        CREATE INDEX login_attempts_last ON login_attempts(last_attempt_at);

        ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;
        CREATE INDEX sessions_member ON sessions(member_id);
        """
    /// `Schema/server/postgres/0004_written_at.sql`
    static let v0004 = """
        -- reflectd server database, PostgreSQL. Migration "0004_written_at" (as Schema/server/0004_written_at.sql).
        ALTER TABLE reflections ADD COLUMN written_at BIGINT;
        ALTER TABLE comments ADD COLUMN written_at BIGINT;
        """
    /// `Schema/server/postgres/0005_names.sql`
    static let v0005 = """
        -- reflectd server database, PostgreSQL. Migration "0005_names" (as Schema/server/0005_names.sql).
        ALTER TABLE clients ADD COLUMN name TEXT;
        ALTER TABLE members ADD COLUMN name_changed_at BIGINT;
        CREATE INDEX comments_author ON comments(author_id);
        """
    /// `Schema/server/postgres/0006_epoch.sql`
    static let v0006 = """
        -- reflectd server database, PostgreSQL. Migration "0006_epoch" (see Schema/server/0006_epoch.sql).
        CREATE TABLE server_epoch (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            epoch TEXT NOT NULL,
            since BIGINT NOT NULL
        );
        """
    /// `Schema/server/postgres/0007_horizon.sql`
    static let v0007 = """
        -- reflectd server database, PostgreSQL. Migration "0007_horizon" (see Schema/server/0007_horizon.sql).
        ALTER TABLE server_epoch ADD COLUMN horizon BIGINT NOT NULL DEFAULT 0;
        """
    /// `Schema/server/postgres/0008_compacted_records.sql`
    static let v0008 = """
        -- reflectd server database, PostgreSQL. Migration "0008_compacted_records" (see Schema/server/0008_compacted_records.sql).
        CREATE TABLE compacted_records (
            id TEXT PRIMARY KEY NOT NULL
        );
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
