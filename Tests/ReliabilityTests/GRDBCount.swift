import Foundation
import GRDB

enum GRDBCount {
    /// The ids of the reflections in a server database file.
    static func reflections(_ path: String) async throws -> Set<UUID> {
        try await DatabaseQueue(path: path).read { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM reflections").compactMap { UUID(uuidString: $0) })
        }
    }
}
