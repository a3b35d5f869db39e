/// The SQL of `Schema/client/*.sql`, one constant per migration (made by Scripts/embed-schema.py; a test
/// checks that they match the files).
enum ClientSchema {
    /// `Schema/client/0001_initial.sql`
    static let v0001 = """
        -- reflect client store, SQLite (one per client home). Migration "0001_initial".
        -- Reviewed source of truth: Sources/ReflectionsClient/ClientSchema.swift holds exactly this text (made by
        -- Scripts/embed-schema.py). Never edit once merged: add 0002_….

        -- Key/value settings: server URL and trust, client id, session, member, sync cursor, clock.
        CREATE TABLE settings (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        ) STRICT;

        -- The local copy of every reflection this device may see, with its pending local edits applied.
        -- server_version: the last server version seen (0: not on the server yet); server_fields: that version's
        -- fields as JSON, the base that pending edits are rebased from. author_id NULL: this device's member, written
        -- before the first login.
        CREATE TABLE reflections (
            id TEXT PRIMARY KEY NOT NULL,
            author_id TEXT,
            prompt_id INTEGER,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            visibility TEXT NOT NULL CHECK (visibility IN ('private', 'community')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            server_version INTEGER NOT NULL DEFAULT 0,
            server_fields TEXT,
            conflicted INTEGER NOT NULL DEFAULT 0
        ) STRICT;

        CREATE TABLE comments (
            id TEXT PRIMARY KEY NOT NULL,
            reflection_id TEXT NOT NULL,
            author_id TEXT,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            hidden INTEGER NOT NULL DEFAULT 0,
            server_version INTEGER NOT NULL DEFAULT 0,
            server_fields TEXT,
            conflicted INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX comments_reflection ON comments(reflection_id);

        -- Open conflict revisions of this member's records, as the server last sent them.
        CREATE TABLE revisions (
            id TEXT PRIMARY KEY NOT NULL,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            revision TEXT NOT NULL
        ) STRICT;
        CREATE INDEX revisions_record ON revisions(record_id);

        -- The outbox: every local change, in order, exactly as it is (re)sent. A mutation is rewritten (coalesced
        -- with a later edit) only while sent = 0; once a push has carried it, it is re-sent unchanged until the server
        -- answers. Rejected mutations stay, with the server's reason, until the member deals with them.
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            mutation_id TEXT NOT NULL UNIQUE,
            entity TEXT NOT NULL,
            record_id TEXT NOT NULL,
            operation TEXT NOT NULL,
            mutation TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            sent INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
            reject_code TEXT,
            reject_reason TEXT
        ) STRICT;
        CREATE INDEX outbox_record ON outbox(record_id);

        -- The sync log: each sync run, and each event in it (a mutation's fate, a change pulled).
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'conflicts', 'failed')),
            pushed INTEGER NOT NULL DEFAULT 0,
            pulled INTEGER NOT NULL DEFAULT 0,
            merged INTEGER NOT NULL DEFAULT 0,
            conflicts INTEGER NOT NULL DEFAULT 0,
            rejected INTEGER NOT NULL DEFAULT 0,
            error TEXT
        ) STRICT;

        CREATE TABLE sync_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER,
            at INTEGER NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('local', 'push', 'pull')),
            entity TEXT,
            record_id TEXT,
            mutation_id TEXT,
            outcome TEXT NOT NULL,
            detail TEXT
        ) STRICT;
        CREATE INDEX sync_events_run ON sync_events(run_id);
        """
    /// `Schema/client/0002_author_names.sql`
    static let v0002 = """
        -- reflect client database. Migration "0002_author_names".
        -- The author's display name as the server last sent it with the record (NULL until the record is synced, and
        -- from servers that predate names). A rename on the server re-sends the author's records, so this follows it.
        ALTER TABLE reflections ADD COLUMN author_name TEXT;
        ALTER TABLE comments ADD COLUMN author_name TEXT;
        -- Records pulled before this migration carry no name: pull everything once more (applying a record again is
        -- harmless, and pending local edits are rebased as on any pull).
        UPDATE settings SET value = '0' WHERE key = 'cursor';
        """
    /// `Schema/client/0003_last_resync.sql`
    static let v0003 = """
        -- reflect client database. Migration "0003_last_resync".
        -- `reflect status` (and every sync's summary) shows the newest resync: without this index, finding it read the
        -- whole sync log backwards whenever the device had never resynced (a no-op sync grew with the log).
        CREATE INDEX sync_events_resync ON sync_events(id) WHERE outcome = 'resync';
        """
    /// `Schema/client/0004_drafts.sql`
    static let v0004 = """
        -- reflect client database. Migration "0004_drafts".
        -- Text typed on the member's page (`reflect ui`) and not yet saved, kept every few seconds so that it survives a
        -- reload, a closed tab or a crash. `slot` names the editor ("write", or "edit:", "comment:", "comment-edit:" or
        -- "merge:" and the record's id); `editor` is the random name of one editor as a page showed it, so that two tabs
        -- writing in the same slot keep two drafts and saving one never removes the other. A draft is removed when its
        -- own form is saved, when its conflict is resolved, or when the member discards it; it is never synced.
        CREATE TABLE drafts (
            slot TEXT NOT NULL,
            editor TEXT NOT NULL,
            title TEXT,
            body TEXT NOT NULL,
            visibility TEXT,
            prompt_id INTEGER,
            saved_at INTEGER NOT NULL,
            PRIMARY KEY (slot, editor)
        );
        """
    /// Every migration, in order: (name, SQL).
    static let migrations: [(name: String, sql: String)] = [
        ("0001_initial", v0001),
        ("0002_author_names", v0002),
        ("0003_last_resync", v0003),
        ("0004_drafts", v0004),
    ]
}
