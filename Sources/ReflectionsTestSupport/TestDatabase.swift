import Foundation
import Logging
import PostgresNIO
import ReflectionsServer

/// The engine a test server keeps its data in.
///
/// `swift test` uses SQLite. With `REFLECT_TEST_ENGINE=postgres` and `REFLECT_TEST_POSTGRES_URL` (an address
/// whose user may create databases; `Scripts/with-postgres.sh` starts a throw-away cluster and sets both), every
/// server that a test starts gets a new PostgreSQL database instead, so that the whole server suite runs on
/// PostgreSQL unchanged.
public enum TestDatabase: Sendable {
    case sqlite
    case postgres(PostgresURL)

    /// The `--database` value of this engine (nil for SQLite in the data folder).
    public var url: String? {
        switch self {
        case .sqlite: nil
        case .postgres(let url): url.address
        }
    }

    /// The PostgreSQL cluster for tests, if `REFLECT_TEST_POSTGRES_URL` names one.
    public static var postgresCluster: PostgresURL? {
        guard let text = ProcessInfo.processInfo.environment["REFLECT_TEST_POSTGRES_URL"], !text.isEmpty else {
            return nil
        }
        return try? PostgresURL(text)
    }

    /// Whether the PostgreSQL-only tests must run: a cluster address is set (even one that does not parse, which
    /// then fails them with the reason) or the run is CI's (`CI=true`), where skipping them would let a broken
    /// set-up pass on nothing.
    public static var postgresRequired: Bool {
        let environment = ProcessInfo.processInfo.environment
        return !(environment["REFLECT_TEST_POSTGRES_URL"] ?? "").isEmpty || environment["CI"] == "true"
    }

    /// Whether the suite runs its servers on PostgreSQL (`REFLECT_TEST_ENGINE=postgres`).
    public static var postgresRequested: Bool {
        ProcessInfo.processInfo.environment["REFLECT_TEST_ENGINE"] == "postgres"
    }

    /// A new SQLite server, or a new PostgreSQL database when the environment asks for PostgreSQL.
    public static func fromEnvironment() async throws -> TestDatabase {
        guard postgresRequested else { return .sqlite }
        return .postgres(try await freshPostgres())
    }

    /// A new, empty database on the test cluster.
    public static func freshPostgres() async throws -> PostgresURL {
        guard let text = ProcessInfo.processInfo.environment["REFLECT_TEST_POSTGRES_URL"], !text.isEmpty else {
            throw TestDatabaseError(
                "the PostgreSQL tests need REFLECT_TEST_POSTGRES_URL (Scripts/with-postgres.sh sets it)")
        }
        let cluster: PostgresURL
        do {
            cluster = try PostgresURL(text)
        } catch {
            throw TestDatabaseError("REFLECT_TEST_POSTGRES_URL does not parse: \(error)")
        }
        let name = "reflect_test_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        var logger = Logger(label: "reflect-test-admin")
        logger.logLevel = .warning
        let connection = try await PostgresConnection.connect(
            configuration: try cluster.connectionConfiguration(), id: 1, logger: logger)
        do {
            _ = try await connection.simpleQuery("CREATE DATABASE \(name)").get()
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        return cluster.with(database: name)
    }
}

/// A test set-up that cannot run.
public struct TestDatabaseError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
