import Foundation
import GRDB
import ReflectionsServer
import ReflectionsTestSupport
import Testing

@Suite struct ServerSchemaTests {
    static let schemaFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schema/server")

    static func schema(_ db: Database) throws -> [String] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT type, name, tbl_name, sql FROM sqlite_master
                WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY type, name
                """
        ).map {
            "\($0["type"] as String) \($0["name"] as String) \($0["tbl_name"] as String): \($0["sql"] as String? ?? "")"
        }
    }

    @Test func theMigratedDatabaseMatchesTheSchemaFiles() throws {
        let directory = TemporaryDirectory.make(prefix: "schema")
        let path = directory.appendingPathComponent("db.sqlite").path
        let store = try SQLiteStore(path: path)
        try store.close()
        let migrated = try DatabaseQueue(path: path).read(Self.schema)

        let files = try FileManager.default.contentsOfDirectory(atPath: Self.schemaFolder.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        let reference = try DatabaseQueue()
        for file in files {
            let sql = try String(contentsOf: Self.schemaFolder.appendingPathComponent(file), encoding: .utf8)
            try reference.write { try $0.execute(sql: sql) }
        }
        let expected = try reference.read(Self.schema)
        #expect(migrated == expected)
        #expect(migrated.contains { $0.hasPrefix("table reflections") })
    }

    @Test func aNewServerStartsWithTheSixPrompts() async throws {
        let directory = TemporaryDirectory.make(prefix: "prompts")
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path)
        let prompts = try await store.prompts()
        try store.close()
        #expect(prompts.map(\.id) == [1, 2, 3, 4, 5, 6])
        #expect(prompts.first?.text == "What does great allyship look like?")
    }
}
