import Foundation
import ReflectionsModel

/// A value bound to, or read from, a statement: the few types the server's tables use, the same for SQLite and
/// PostgreSQL.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    /// Stored as `INTEGER` 0/1 by SQLite, as `BOOLEAN` by PostgreSQL.
    case bool(Bool)
}

/// A type that can be bound to a statement.
public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .bool(self) } }
extension UUID: SQLBindable { public var sqlValue: SQLValue { .text(UUIDText.string(self)) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// `IN (…)` lists: values in chunks small enough for one statement, and their placeholders.
enum SQLList {
    static func chunks<T>(_ values: [T], size: Int = 500) -> [[T]] {
        stride(from: 0, to: values.count, by: size).map { Array(values[$0..<min($0 + size, values.count)]) }
    }

    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ",")
    }
}

/// One row of a result, by column name.
///
/// Reading a column that is missing or of another type is a programming error (the schema and the queries
/// are reviewed together), so the accessors trap rather than throw.
public struct SQLRow: Sendable {
    /// Column positions by name, shared by every row of one result (building a dictionary per row was a
    /// twentieth of serving a pull).
    let names: [String: Int]
    let values: [SQLValue]

    public init(names: [String: Int], values: [SQLValue]) {
        self.names = names
        self.values = values
    }

    /// The positions of `columns` by name (for a duplicate name, the last one, as a dictionary of the row would
    /// keep).
    public static func names(_ columns: [String]) -> [String: Int] {
        Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { _, last in last })
    }

    subscript(_ name: String) -> SQLValue? {
        names[name].map { values[$0] }
    }

    /// Every text value of the row (in no particular order).
    public var texts: [String] {
        values.compactMap { if case .text(let text) = $0 { text } else { nil } }
    }

    public func optionalInteger(_ name: String) -> Int64? {
        switch self[name] {
        case .integer(let value): value
        case .bool(let value): value ? 1 : 0
        case .null: nil
        default: preconditionFailure("column \(name) is not an integer: \(String(describing: self[name]))")
        }
    }

    public func integer(_ name: String) -> Int64 {
        guard let value = optionalInteger(name) else { preconditionFailure("column \(name) is NULL") }
        return value
    }

    public func optionalText(_ name: String) -> String? {
        switch self[name] {
        case .text(let value): value
        case .null: nil
        default: preconditionFailure("column \(name) is not text: \(String(describing: self[name]))")
        }
    }

    public func text(_ name: String) -> String {
        guard let value = optionalText(name) else { preconditionFailure("column \(name) is NULL") }
        return value
    }

    public func bool(_ name: String) -> Bool {
        switch self[name] {
        case .bool(let value): value
        case .integer(let value): value != 0
        default: preconditionFailure("column \(name) is not a boolean: \(String(describing: self[name]))")
        }
    }

    public func uuid(_ name: String) -> UUID {
        guard let id = UUIDText.parse(text(name)) else { preconditionFailure("column \(name) is not a UUID") }
        return id
    }
}

/// The statements of one transaction, as the storage rules (``SQLStoreRules``) run them on either engine.
///
/// SQL is written once, in the dialect both engines accept: `?` placeholders, `ON CONFLICT … DO NOTHING`,
/// `RETURNING`, `TRUE`/`FALSE` and `NOT column` for booleans. Calls block the calling thread: the SQLite store
/// runs them on GRDB's writer or reader, the PostgreSQL store on its own thread pool, never on an event loop.
public protocol SQLTransaction {
    /// Runs a statement that returns no rows.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws
    /// Runs a query and returns all of its rows.
    func fetchAll(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs `body` inside a savepoint: its writes are rolled back if it throws.
    func savepoint<T>(_ body: () throws -> T) throws -> T
    /// Serializes the writers of the change feed, so that sequence numbers commit in the order they are handed
    /// out (a reader that sees sequence `n` committed then sees every lower one too). Held until the
    /// transaction ends.
    func lockChangeFeed() throws
    /// Tells the other servers of the same database, once this transaction commits, that a change or a session
    /// ending may be worth a look (their change streams re-check). PostgreSQL: `NOTIFY`; SQLite: nothing (other
    /// processes see `PRAGMA data_version` move).
    func announceChange() throws
}

extension SQLTransaction {
    func execute(_ sql: String, _ arguments: any SQLBindable...) throws {
        try execute(sql, arguments.map(\.sqlValue))
    }

    func fetchAll(_ sql: String, _ arguments: any SQLBindable...) throws -> [SQLRow] {
        try fetchAll(sql, arguments.map(\.sqlValue))
    }

    func fetchOne(_ sql: String, _ arguments: any SQLBindable...) throws -> SQLRow? {
        try fetchAll(sql, arguments.map(\.sqlValue)).first
    }
}

/// A database engine the server's storage rules can run on: SQLite (``SQLiteStore``) or PostgreSQL
/// (``PostgresStore``).
public protocol SQLEngine: Sendable {
    /// Runs `body` in a read-write transaction, committed durably when it returns.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T
    /// Runs `body` in a read-only transaction that sees one snapshot of the database.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T
}
