import Foundation
import GRDB
import ReflectionsFiles
import ReflectionsModel

/// The client's local store: one SQLite file per client home, fully usable offline.
///
/// Every local write is one transaction that updates the record and appends its mutation to the outbox, so a
/// change is never stored without the mutation that will carry it to the server (nor the reverse). Commits use
/// `synchronous=FULL`: what `reflect write` reported as saved survives a power cut.
public final class ClientStore: Sendable {
    let pool: DatabasePool
    let clock: WallClock
    /// An empty file whose modification time is the last sync that found nothing to move (such a sync writes
    /// nothing to the database, so `status` learns of it here; it is not fsynced, and losing it loses nothing).
    let quietSyncMarker: String
    /// Syncs of this store run one at a time (see ``SyncGate``).
    let syncGate = SyncGate()

    /// Opens (or creates) the store at `path` (mode 0600) and runs its migrations.
    ///
    /// `durable: false` (simulations only) turns fsync off; the CLI never does.
    public init(path: String, clock: WallClock = .system, durable: Bool = true) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(15)
        configuration.prepareDatabase { db in
            try db.execute(sql: durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF")
        }
        // 0600 before SQLite opens it (it holds a bearer token and private text), so that its -wal and -shm files
        // are made 0600 as well.
        do {
            try PrivateFiles.prepareFile(path)
        } catch {
            throw ClientError(.invalidInput, error.message)
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        self.clock = clock
        quietSyncMarker = path + "-checked"
        var migrator = DatabaseMigrator()
        for migration in ClientSchema.migrations {
            migrator.registerMigration(migration.name) { db in try db.execute(sql: migration.sql) }
        }
        try migrator.migrate(pool)
    }

    /// The store of a client home folder (created with mode 0700 if needed; one that other users can write to is
    /// refused).
    public static func open(home: URL, clock: WallClock = .system, durable: Bool = true) throws -> ClientStore {
        do {
            try PrivateFiles.prepareFolder(home)
        } catch {
            throw ClientError(.invalidInput, error.message)
        }
        return try ClientStore(path: home.appendingPathComponent("reflect.sqlite").path, clock: clock, durable: durable)
    }

    public func close() throws { try pool.close() }

    // MARK: Settings

    enum Key: String {
        case serverURL = "server_url"
        case trust
        case clientID = "client_id"
        case token
        case member
        case cursor
        case hlc
        case deviceName = "device_name"
        case epoch
    }

    public func settings() throws -> ClientSettings {
        try pool.read { db in try Self.settings(db) }
    }

    static func settings(_ db: Database) throws -> ClientSettings {
        var values: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") {
            values[row["key"]] = row["value"]
        }
        let decoder = JSONDecoder()
        return ClientSettings(
            serverURL: values[Key.serverURL.rawValue],
            trust: values[Key.trust.rawValue].flatMap { try? decoder.decode(ServerTrust.self, from: Data($0.utf8)) },
            clientID: values[Key.clientID.rawValue].flatMap { UUID(uuidString: $0) },
            token: values[Key.token.rawValue],
            member: values[Key.member.rawValue].flatMap { try? decoder.decode(Member.self, from: Data($0.utf8)) },
            cursor: values[Key.cursor.rawValue].flatMap { Int64($0) } ?? 0,
            lastHLC: values[Key.hlc.rawValue].flatMap { try? decoder.decode(HLCTimestamp.self, from: Data($0.utf8)) },
            deviceName: values[Key.deviceName.rawValue], epoch: values[Key.epoch.rawValue])
    }

    static func set(_ db: Database, _ key: Key, _ value: String?) throws {
        if let value {
            try db.execute(
                sql:
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key.rawValue, value])
        } else {
            try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [key.rawValue])
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// Records the server and how to trust it, and makes this device's client id (once).
    ///
    /// Re-running `init` with the same server updates the trust; another server is refused while there is
    /// local data for the first one, since it would mix two communities' writing.
    public func initialize(serverURL: String, trust: ServerTrust) throws {
        try pool.write { db in
            let current = try Self.settings(db)
            if let existing = current.serverURL, existing != serverURL {
                let hasData =
                    try Int.fetchOne(
                        db, sql: "SELECT (SELECT COUNT(*) FROM reflections) + (SELECT COUNT(*) FROM outbox)")
                    ?? 0
                if hasData > 0 {
                    throw ClientError(
                        .alreadyInitialized,
                        "This home already syncs with \(existing) and holds writing for it; \(serverURL) needs a home of its own.",
                        next: .useAnotherHome
                    )
                }
                try Self.set(db, .token, nil)
                try Self.set(db, .member, nil)
                try Self.set(db, .cursor, nil)
            }
            try Self.set(db, .serverURL, serverURL)
            try Self.set(db, .trust, try Self.json(trust))
            if current.clientID == nil { try Self.set(db, .clientID, UUID().uuidString) }
        }
    }

    /// Stores a session after login. A home belongs to one member: logging in as another is refused.
    public func saveSession(token: String, member: Member) throws {
        try pool.write { db in
            if let existing = try Self.settings(db).member, existing.id != member.id {
                throw ClientError(
                    .wrongMember,
                    "This home belongs to '\(existing.handle)'; '\(member.handle)' needs a home of its own.",
                    next: .useAnotherHome)
            }
            try Self.set(db, .token, token)
            try Self.set(db, .member, try Self.json(member))
            // Writing done before the first login is this member's.
            try db.execute(
                sql: "UPDATE reflections SET author_id = ? WHERE author_id IS NULL", arguments: [member.id.uuidString])
            try db.execute(
                sql: "UPDATE comments SET author_id = ? WHERE author_id IS NULL", arguments: [member.id.uuidString])
        }
    }

    /// Names this device (`reflect init --device-name`); its pushes carry the name, which the member then sees in
    /// conflicts on their other devices. Validated here, so that a bad name is refused before anything is sent.
    public func setDeviceName(_ name: String) throws {
        let name = try validate { try Validation.deviceName(name) }
        try pool.write { db in try Self.set(db, .deviceName, name) }
    }

    /// Keeps the member as the server last described them (after a display-name change); reads show the
    /// member's own records with this name.
    public func updateMember(_ member: Member) throws {
        try pool.write { db in
            guard let existing = try Self.settings(db).member, existing.id == member.id else {
                throw ClientError(.wrongMember, "This home belongs to another member.")
            }
            try Self.set(db, .member, try Self.json(member))
        }
    }

    /// Forgets the session token (the member and local writing stay).
    public func clearSession() throws {
        try pool.write { db in try Self.set(db, .token, nil) }
    }

    /// Removes this member's writing from the device (for a shared computer), keeping only the server set-up, so
    /// that another member can log in here. Refused while anything is not on the server yet: pending or rejected
    /// changes, or open conflicts. The database is vacuumed, so the removed text does not linger in free pages.
    public func forgetLocalWriting() throws {
        try pool.write { db in
            let unsent = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
            let conflicts = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM revisions") ?? 0
            guard unsent == 0 && conflicts == 0 else {
                throw ClientError(
                    .notAllowed,
                    "\(unsent) change(s) are not on the server and \(conflicts) conflict(s) are open: nothing was "
                        + "removed. Sync and resolve them first.")
            }
            for table in ["reflections", "comments", "revisions", "sync_events", "sync_runs"] {
                try db.execute(sql: "DELETE FROM \(table)")
            }
            // The token stays for the caller to end the session with (`clearSession`).
            for key in [Key.member, .cursor] { try Self.set(db, key, nil) }
        }
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            // And out of the write-ahead log, which can still hold the removed pages.
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// The settings, or an error that says to run `reflect init` first.
    func requireInitialized(_ db: Database) throws -> ClientSettings {
        let settings = try Self.settings(db)
        guard settings.isInitialized else {
            throw ClientError(
                .notInitialized,
                "This home is not set up for a server yet.", next: .setUp)
        }
        return settings
    }

    /// The next HLC reading of this device (persisted, so it never goes back across runs).
    func tick(_ db: Database, settings: ClientSettings) throws -> HLCTimestamp {
        var clock = HybridLogicalClock(
            node: String(settings.clientID?.uuidString.prefix(8) ?? "local"), last: settings.lastHLC)
        let stamp = clock.tick(now: self.clock.now())
        try Self.set(db, .hlc, try Self.json(stamp))
        return stamp
    }
}
