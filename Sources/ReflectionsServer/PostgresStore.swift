import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ReflectionsModel

/// The store for more than one machine: PostgreSQL through postgres-nio, shared by any number of `reflectd`
/// processes.
///
/// The storage rules are the same code as SQLite's (``SQLStorePush``, ``SQLStorePull``), run on a small
/// thread pool of its own that blocks on each statement's future — never on an event loop. What makes several
/// servers safe:
/// - **Migrations** run in one transaction under an advisory lock: servers that start together wait for the
///   first, then find the schema up to date.
/// - **The change feed**: a push takes a transaction-scoped advisory lock before it hands out any sequence
///   number, so sequence numbers commit in the order they are handed out. Without it, a pull could see
///   sequence 11 committed while 10 is still in flight, move its cursor to 11 and never see 10.
/// - **Pulls** read in one `REPEATABLE READ` snapshot, so the page and the head of the log agree.
/// - **Idempotency, authorization and conflicts** live in the database (the ledger, the rows), not in a process.
public final class PostgresStore: ServerStore, SQLEngine {
    /// Advisory-lock keys (`pg_advisory_xact_lock(class, id)`): "Refl" and a number.
    static let lockClass: Int32 = 0x5265_666C
    static let changeFeedLock: Int32 = 1
    static let migrationLock: Int32 = 2
    /// The `LISTEN`/`NOTIFY` channel of ``SQLTransaction/announceChange()``.
    static let changesChannel = "reflect_changes"

    let client: PostgresClient
    let url: PostgresURL
    let threads: NIOThreadPool
    let logger: Logger
    private let runTask: Task<Void, Never>

    /// Connects (the pool opens connections lazily), runs the migrations and seeds the default prompts.
    public init(url: PostgresURL, maximumConnections: Int = 16, logger: Logger = Logger(label: "reflectd.postgres"))
        async throws
    {
        // One connection first, so that a wrong address or password fails at once with its reason (the pool
        // would retry quietly until a statement times out).
        do {
            let probe = try await PostgresConnection.connect(
                configuration: try url.connectionConfiguration(), id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw ServerError(
                .serviceUnavailable, "database_unreachable", "Cannot connect to \(url): \(String(reflecting: error))")
        }
        // The pool's own chatter (such as "run() hasn't been called yet" while the run task starts) stays quiet;
        // a failing connection still fails the statements that needed it.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: background)
        self.client = client
        self.url = url
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: maximumConnections)
        threads.start()
        runTask = Task { await client.run() }
        do {
            try await migrate()
        } catch {
            await close()
            throw error
        }
    }

    /// Listens on a connection of its own (not one of the pool's), so that a busy pool never delays a wake-up;
    /// when that connection drops, it reconnects after 1 s, doubling to 30 s, and wakes every stream once
    /// connected again (a notification sent meanwhile is lost, so everyone re-checks).
    public func watchChanges(_ onChange: @escaping @Sendable () -> Void) async throws {
        var delay = Duration.seconds(1)
        var connectionID = 1
        while !Task.isCancelled {
            do {
                connectionID += 1
                let connection = try await PostgresConnection.connect(
                    configuration: try url.connectionConfiguration(), id: connectionID, logger: logger)
                let logger = logger
                try await withTaskCancellationHandler {
                    try await connection.listen(on: Self.changesChannel) { notifications in
                        delay = .seconds(1)
                        onChange()
                        // A query every 30 s notices a half-open connection (no notification would ever come on
                        // it); either task ending ends the listen, and the loop reconnects.
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for try await _ in notifications { onChange() }
                            }
                            group.addTask {
                                while true {
                                    try await Task.sleep(for: .seconds(30))
                                    _ = try await connection.query("SELECT 1", logger: logger).collect()
                                }
                            }
                            defer { group.cancelAll() }
                            try await group.next()
                        }
                    }
                } onCancel: {
                    Task { try? await connection.close() }
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning("Listening for changes: \(String(reflecting: error)); again in \(delay)")
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
    }

    public func databaseBytes() async throws -> Int64 {
        try await read { tx in
            try tx.fetchOne("SELECT pg_database_size(current_database()) AS size")?.integer("size") ?? 0
        }
    }

    /// Closes every connection and stops the threads; further calls fail.
    public func close() async {
        runTask.cancel()
        _ = await runTask.value
        try? await threads.shutdownGracefully()
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await transaction("BEGIN", body)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    private func transaction<T: Sendable>(
        _ begin: String, _ body: @escaping @Sendable (any SQLTransaction) throws -> T
    ) async throws -> T {
        let logger = logger
        let threads = threads
        return try await client.withConnection { connection in
            try await threads.runIfActive {
                let tx = PostgresTransaction(connection: connection, logger: logger)
                try tx.simple(begin)
                do {
                    let result = try body(tx)
                    try tx.commit()
                    return result
                } catch {
                    try? tx.drain()
                    try? tx.simple("ROLLBACK")
                    throw error
                }
            }
        }
    }

    /// Applies the migrations of `Schema/server/postgres/` that are missing, once, whoever else starts now.
    private func migrate() async throws {
        try await write { tx in
            guard let pg = tx as? PostgresTransaction else { preconditionFailure("not a PostgreSQL transaction") }
            try pg.advisoryLock(Self.migrationLock)
            try tx.execute(
                "CREATE TABLE IF NOT EXISTS reflect_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            let applied = Set(try tx.fetchAll("SELECT name FROM reflect_migrations").map { $0.text("name") })
            for migration in PostgresSchema.migrations where !applied.contains(migration.name) {
                try pg.script(migration.sql)
                try tx.execute(
                    "INSERT INTO reflect_migrations (name, applied_at) VALUES (?, ?)", migration.name,
                    WallClock.system.now())
            }
            try SQLStoreAccounts.seedPrompts(tx)
        }
    }
}

/// ``SQLTransaction`` on one leased PostgreSQL connection, used by one thread-pool thread at a time.
///
/// Statements whose result the rules do not read (``execute(_:_:)``: inserts, updates, savepoints) are sent
/// without waiting; the connection runs them in order, and the next statement whose rows are needed — or the
/// commit — first waits for all of them and throws the first error among them. A push therefore waits for the
/// server about three times per created record instead of eight, and an error is never lost: PostgreSQL aborts
/// the transaction at the first failed statement, and the commit is only sent once every earlier statement has
/// succeeded.
final class PostgresTransaction: SQLTransaction {
    let connection: PostgresConnection
    let logger: Logger
    /// Sent, not yet waited for, in the order they were sent.
    private var inFlight: [EventLoopFuture<PostgresQueryResult>] = []

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        inFlight.append(send(sql, arguments))
        if inFlight.count >= 256 { try drain() }
    }

    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let result = send(sql, arguments)
        try drain()
        // Column positions by name are worked out once per result and shared by its rows.
        var names: [String: Int]?
        return try result.wait().rows.map { row in
            var values: [SQLValue] = []
            values.reserveCapacity(row.count)
            var columnNames: [String] = []
            for cell in row {
                values.append(try Self.value(cell))
                if names == nil { columnNames.append(cell.columnName) }
            }
            let shared = names ?? SQLRow.names(columnNames)
            names = shared
            return SQLRow(names: shared, values: values)
        }
    }

    /// Commits, or throws: PostgreSQL answers a `COMMIT` in a transaction that had a failed statement with a
    /// rollback and no error, so the answer's command tag is checked — a push must never be acknowledged when
    /// nothing of it was kept.
    func commit() throws {
        let answer = send("COMMIT", [])
        try drain()
        let tag = try answer.wait().metadata.command
        guard tag == "COMMIT" else {
            throw ServerError(.internalServerError, "not_committed", "The database did not keep this change (\(tag)).")
        }
    }

    /// Waits for every statement sent so far; throws the first one's error, if any failed.
    func drain() throws {
        let pending = inFlight
        inFlight = []
        var firstError: (any Error)?
        for future in pending {
            do {
                _ = try future.wait()
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }

    /// Runs `body` in a savepoint. The body's statements are waited for before the savepoint is released, so that
    /// a statement that fails fails *this* savepoint: with the release pipelined too, the error arrived at the next
    /// savepoint's first read, which then rolled back to this one — the mutation that failed was reported applied
    /// and the next one rejected, and the commit kept neither (PostgreSQL commits nothing after an error, quietly).
    func savepoint<T>(_ body: () throws -> T) throws -> T {
        try execute("SAVEPOINT rule", [])
        do {
            let result = try body()
            try drain()
            try execute("RELEASE SAVEPOINT rule", [])
            return result
        } catch {
            // A failed statement outranks the rule's own error. Rolling back to the savepoint undoes it when it
            // was sent inside the savepoint; when it came before, the rollback itself fails and the whole
            // transaction does, as it must.
            var failure: any Error = error
            do { try drain() } catch let statementError { failure = statementError }
            try execute("ROLLBACK TO SAVEPOINT rule", [])
            try execute("RELEASE SAVEPOINT rule", [])
            try drain()
            throw failure
        }
    }

    func lockChangeFeed() throws {
        try advisoryLock(PostgresStore.changeFeedLock)
    }

    /// `NOTIFY`, delivered to every listening server when (and only if) the transaction commits; several in one
    /// transaction arrive as one.
    func announceChange() throws {
        try execute("NOTIFY \(PostgresStore.changesChannel)", [])
    }

    /// Takes one of the store's transaction-scoped advisory locks (released at commit or rollback).
    func advisoryLock(_ id: Int32) throws {
        try execute("SELECT pg_advisory_xact_lock(?::int4, ?::int4)", Int(PostgresStore.lockClass), Int(id))
    }

    /// Runs one statement without parameters and waits for it (and everything sent before it).
    func simple(_ sql: String) throws {
        _ = try fetchAll(sql, [])
    }

    /// Runs a migration file: its statements one by one (the extended protocol takes one at a time).
    func script(_ sql: String) throws {
        for statement in Self.statements(sql) { try simple(statement) }
    }

    /// The statements of a script: split at `;` outside quotes, `--` comments dropped.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quote: Character?
        var comment = false
        var previous: Character = " "
        for character in sql {
            if comment {
                if character == "\n" { comment = false }
                continue
            }
            if let open = quote {
                current.append(character)
                if character == open { quote = nil }
            } else if character == "-" && previous == "-" {
                current.removeLast()
                comment = true
            } else if character == "'" || character == "\"" {
                quote = character
                current.append(character)
            } else if character == ";" {
                statements.append(current)
                current = ""
            } else {
                current.append(character)
            }
            previous = comment ? " " : character
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    private func send(_ sql: String, _ arguments: [SQLValue]) -> EventLoopFuture<PostgresQueryResult> {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .integer(let integer): bindings.append(integer)
            case .text(let text): bindings.append(text)
            case .bool(let bool): bindings.append(bool)
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numberedPlaceholders(sql), binds: bindings)
        return connection.query(query, logger: logger)
    }

    /// `?` placeholders (the shared dialect) become `$1`, `$2`, … (outside quoted text).
    static func numberedPlaceholders(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?" && !quoted {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
        case .bool: return .bool(try cell.decode(Bool.self))
        default: return .text(try cell.decode(String.self))
        }
    }
}
