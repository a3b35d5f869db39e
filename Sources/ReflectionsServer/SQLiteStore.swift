import Foundation
import GRDB
import ReflectionsFiles
import ReflectionsModel

/// The embedded default store: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// Every connection runs with `synchronous=FULL`, so a push is acknowledged only after its commit is durable
/// (WAL with `NORMAL` can lose the last commits on power loss). SQLite has one writer at a time, so the change
/// feed's sequence numbers always commit in order.
public final class SQLiteStore: ServerStore, SQLEngine {
    let pool: DatabasePool
    let path: String

    /// Opens (or creates) the database at `path` (mode 0600, whatever the folder's mode), runs the migrations and
    /// seeds the default prompts.
    ///
    /// `durable: false` (simulations only) turns fsync off; a production server never does.
    public init(path: String, durable: Bool = true) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // Each pushed mutation runs in a savepoint; SQLite keeps the savepoint's statement journal in a temporary
            // file unless temporary storage is memory, and strace of a push showed 23 page writes per mutation to
            // it. In memory it is bounded by one push (at most 4 MiB of mutations).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // A checkpoint (the WAL copied into the database and synced) after about 40 MB of WAL rather than
            // SQLite's 4 MB: a 500-record push writes about 3 MB, so nearly every push paid for one, and pages that
            // every push rewrites (the indexes') were copied each time. Measured (BENCHMARKS.md, session 9): a
            // push batch's p50 37-43 -> 28-33 ms. Durability is the WAL's fsync at each commit, unchanged. A
            // burst, or a long reader that holds a checkpoint back, can grow the WAL past that; the size limit has
            // it cut back to 64 MiB when it is next reset.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        // 0600 before SQLite opens it, so that its -wal and -shm files are made 0600 as well.
        try PrivateFiles.prepareFile(path)
        self.path = path
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        try pool.write { db in try SQLStoreAccounts.seedPrompts(GRDBTransaction(db)) }
    }

    /// Polls `PRAGMA data_version` on a connection of its own every half second: it moves whenever another
    /// connection — this server's writer, or another process such as `reflectd user disable` — commits. Commits of
    /// this server wake streams at once anyway; the poll is for the other processes.
    public func watchChanges(_ onChange: @escaping @Sendable () -> Void) async throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let watcher = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? watcher.close() }
        var seen = try await watcher.read { db in try Int.fetchOne(db, sql: "PRAGMA data_version") }
        while true {
            try await Task.sleep(for: .milliseconds(500))
            // A failed poll (the database busy for longer than the timeout) wakes everyone rather than ending the
            // watch: a spurious re-check costs little, a silent watcher would delay logouts to the heartbeat.
            let now = try? await watcher.read { db in try Int.fetchOne(db, sql: "PRAGMA data_version") }
            if now == nil || now != seen {
                seen = now ?? seen
                onChange()
            }
        }
    }

    /// The database file and its WAL.
    public func databaseBytes() async throws -> Int64 {
        [path, path + "-wal"].reduce(0) { total, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value
            return total + (size ?? 0)
        }
    }

    /// Closes the database; further calls fail.
    public func close() throws {
        try pool.close()
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await pool.write { db in try body(GRDBTransaction(db)) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await pool.read { db in try body(GRDBTransaction(db)) }
    }

    /// The server's migrations: each runs the text of one file of `Schema/server/`, never edited once merged.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in ServerSchema.migrations {
            migrator.registerMigration(migration.name) { db in
                try db.execute(sql: migration.sql)
            }
        }
        return migrator
    }
}

/// ``SQLTransaction`` on a GRDB connection, with cached prepared statements.
struct GRDBTransaction: SQLTransaction {
    let db: Database

    init(_ db: Database) {
        self.db = db
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        let names = SQLRow.names(statement.columnNames)
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        let columns = CInt(statement.columnCount)
        var rows: [SQLRow] = []
        while try cursor.next() != nil {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columns))
            for index in 0..<columns {
                // Straight from the statement's current row: reading `row[index]` as a `DatabaseValue` went
                // through GRDB's generic decoding, whose type-metadata lookups were ~2 % of serving a pull.
                let value = DatabaseValue(sqliteStatement: statement.sqliteStatement, index: index)
                switch value.storage {
                case .null: values.append(.null)
                case .int64(let integer): values.append(.integer(integer))
                case .string(let text): values.append(.text(text))
                case .double(let double): values.append(.integer(Int64(double)))
                case .blob(let data): values.append(.text(String(decoding: data, as: UTF8.self)))
                }
            }
            rows.append(SQLRow(names: names, values: values))
        }
        return rows
    }

    func savepoint<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try db.inSavepoint {
            result = try body()
            return .commit
        }
        return result!
    }

    /// Nothing to do: SQLite runs one write transaction at a time.
    func lockChangeFeed() throws {}

    /// Nothing to do: another process notices the commit through `PRAGMA data_version` (``SQLiteStore/watchChanges(_:)``).
    func announceChange() throws {}

    /// Concrete `DatabaseValue`s, not existentials: boxing each argument was a sixth of a push's rule work.
    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> DatabaseValue in
                switch value {
                case .null: .null
                case .integer(let integer): integer.databaseValue
                case .text(let text): text.databaseValue
                case .bool(let bool): bool.databaseValue
                }
            })
    }
}
