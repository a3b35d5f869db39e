import Foundation
import GRDB
import ReflectionsModel

/// The simulation's own record of who wrote what, kept by the test as it acts — never read back from the server.
///
/// The oracles judge each device against this history and against the author's own devices, so that a leak the
/// server serves consistently (the same wrong answer to every device) is still a leak, and a loss the server
/// hides consistently is still a loss.
struct SimulationHistory {
    /// One marker: a unique piece of text, written by one device into one record.
    struct Marker {
        var replica: Int
        var member: Int
        var record: UUID
        var entity: EntityKind
    }

    /// The member (index) who created each record, and its entity.
    var author: [UUID: Int] = [:]
    var entity: [UUID: EntityKind] = [:]
    /// For comments: the reflection they answer.
    var parent: [UUID: UUID] = [:]
    /// Reflections whose author ever wrote them as `community` (created so, or flipped to it).
    var everShared: Set<UUID> = []
    /// Records their author deleted (from any of their devices), with the text each deleting device showed at that
    /// moment: an edit in that text was deleted knowingly; an edit the deleting device never saw was not.
    var deletedText: [UUID: String] = [:]
    var markers: [String: Marker] = [:]
}

/// What one device holds, read straight from its database file (not through the client's API, which hides
/// deleted rows).
struct DeviceSnapshot {
    struct Record {
        var id: UUID
        var entity: EntityKind
        var authorID: UUID?
        var reflectionID: UUID?
        var title: String
        var body: String
        var visibility: String?
        var deleted: Bool
        var hidden: Bool
    }

    struct Revision {
        var entity: String
        var recordID: UUID
        var json: String
    }

    struct Rejected {
        var recordID: UUID
        var code: String
        var mutationJSON: String
    }

    var records: [UUID: Record]
    var revisions: [Revision]
    var rejected: [Rejected]

    static func read(path: String) throws -> DeviceSnapshot {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            var records: [UUID: Record] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM reflections") {
                let id = UUID(uuidString: row["id"])!
                records[id] = Record(
                    id: id, entity: .reflection,
                    authorID: (row["author_id"] as String?).flatMap { UUID(uuidString: $0) },
                    reflectionID: nil, title: row["title"], body: row["body"], visibility: row["visibility"],
                    deleted: row["deleted"] as Int64 != 0, hidden: false)
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM comments") {
                let id = UUID(uuidString: row["id"])!
                records[id] = Record(
                    id: id, entity: .comment, authorID: (row["author_id"] as String?).flatMap { UUID(uuidString: $0) },
                    reflectionID: UUID(uuidString: row["reflection_id"]), title: "", body: row["body"],
                    visibility: nil, deleted: row["deleted"] as Int64 != 0, hidden: row["hidden"] as Int64 != 0)
            }
            let revisions = try Row.fetchAll(db, sql: "SELECT entity, record_id, revision FROM revisions").map {
                Revision(entity: $0["entity"], recordID: UUID(uuidString: $0["record_id"])!, json: $0["revision"])
            }
            let rejected = try Row.fetchAll(
                db, sql: "SELECT record_id, reject_code, mutation FROM outbox WHERE state = 'rejected'"
            ).map {
                Rejected(
                    recordID: UUID(uuidString: $0["record_id"])!, code: $0["reject_code"] ?? "?",
                    mutationJSON: $0["mutation"])
            }
            return DeviceSnapshot(records: records, revisions: revisions, rejected: rejected)
        }
    }

    /// Whether `text` (or its JSON-escaped form) is in a string.
    static func contains(_ haystack: String, _ text: String) -> Bool {
        if haystack.contains(text) { return true }
        let escaped = String(decoding: (try? JSONEncoder().encode(text)) ?? Data(), as: UTF8.self)
        return haystack.contains(escaped.dropFirst().dropLast())
    }
}
