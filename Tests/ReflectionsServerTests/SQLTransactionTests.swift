import Foundation
import Logging
import ReflectionsServer
import ReflectionsTestSupport
import Testing

/// The contract both engines keep for the storage rules: a failed statement fails the transaction and nothing
/// of it is committed (even when PostgreSQL's statements are sent without waiting), and a savepoint undoes
/// exactly its own writes.
@Suite struct SQLTransactionTests {
    struct Refused: Error {}

    /// A new SQLite store, and a new PostgreSQL one when a test cluster is configured.
    static func engines() async throws -> [(name: String, engine: any SQLEngine & ServerStore)] {
        var engines: [(String, any SQLEngine & ServerStore)] = [
            ("sqlite", try SQLiteStore(path: TemporaryDirectory.make(prefix: "tx").appendingPathComponent("db").path))
        ]
        if TestDatabase.postgresRequired {
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            engines.append(
                ("postgres", try await PostgresStore(url: try await TestDatabase.freshPostgres(), logger: logger)))
        }
        return engines
    }

    static func promptIDs(_ engine: any SQLEngine) async throws -> [Int64] {
        try await engine.read { tx in
            try tx.fetchAll("SELECT id FROM prompts ORDER BY id", []).map { $0.integer("id") }
        }
    }

    @Test func aFailedStatementCommitsNothing() async throws {
        for (name, engine) in try await Self.engines() {
            await #expect(throws: (any Error).self, "\(name)") {
                try await engine.write { tx in
                    try tx.execute("INSERT INTO prompts (id, text) VALUES (?, ?)", [.integer(100), .text("first")])
                    // The primary key is taken: this statement fails…
                    try tx.execute("INSERT INTO prompts (id, text) VALUES (?, ?)", [.integer(1), .text("again")])
                    // …and this one, sent after it, must not save the transaction.
                    try tx.execute("INSERT INTO prompts (id, text) VALUES (?, ?)", [.integer(101), .text("after")])
                }
            }
            #expect(try await Self.promptIDs(engine) == [1, 2, 3, 4, 5, 6], "\(name)")
            try await engine.close()
        }
    }

    @Test func aSavepointUndoesOnlyItsOwnWrites() async throws {
        for (name, engine) in try await Self.engines() {
            try await engine.write { tx in
                try tx.execute("INSERT INTO prompts (id, text) VALUES (?, ?)", [.integer(200), .text("kept")])
                do {
                    try tx.savepoint {
                        try tx.execute(
                            "INSERT INTO prompts (id, text) VALUES (?, ?)", [.integer(201), .text("undone")])
                        throw Refused()
                    }
                } catch is Refused {}
                let inside = try tx.fetchAll("SELECT id FROM prompts WHERE id >= 200 ORDER BY id", [])
                #expect(inside.map { $0.integer("id") } == [200], "\(name)")
                try tx.savepoint {
                    try tx.execute("INSERT INTO prompts (id, text) VALUES (?, ?)", [.integer(202), .text("kept too")])
                }
            }
            #expect(try await Self.promptIDs(engine) == [1, 2, 3, 4, 5, 6, 200, 202], "\(name)")
            try await engine.close()
        }
    }
}
