import Foundation
import ReflectionsServer
import ReflectionsTestSupport

extension LiveServer {
    /// Every text value of the given tables, joined: what an attacker with a copy of the database would read.
    func allText(of tables: [String]) async throws -> String {
        guard let engine = store as? any SQLEngine else { throw TestDatabaseError("not an SQL store") }
        return try await engine.read { tx in
            var text = ""
            for table in tables {
                for row in try tx.fetchAll("SELECT * FROM \(table)", []) {
                    text += row.texts.joined(separator: "\n") + "\n"
                }
            }
            return text
        }
    }
}
