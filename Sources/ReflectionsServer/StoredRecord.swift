import Foundation
import GRDB
import ReflectionsModel

/// A reflection or comment row as the push and pull code needs it.
struct StoredRecord: Sendable {
    var entity: EntityKind
    var id: UUID
    var authorID: UUID
    /// For comments: the reflection they answer.
    var reflectionID: UUID?
    var fields: RecordFields
    var version: Int64
    var stamp: HLCTimestamp
    var seq: Int64
    var firstSharedSeq: Int64?
    var createdAt: Int64
    var updatedAt: Int64

    init(reflectionRow row: Row) {
        entity = .reflection
        id = UUID(uuidString: row["id"])!
        authorID = UUID(uuidString: row["author_id"])!
        reflectionID = nil
        fields = RecordFields(
            title: row["title"], body: row["body"], visibility: Visibility(rawValue: row["visibility"]) ?? .private,
            promptID: row["prompt_id"], deleted: row["deleted"])
        version = row["version"]
        stamp = HLCTimestamp(
            physical: row["hlc_physical"], counter: UInt32(row["hlc_counter"] as Int64), node: row["hlc_node"])
        seq = row["seq"]
        firstSharedSeq = row["first_shared_seq"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
    }

    init(commentRow row: Row) {
        entity = .comment
        id = UUID(uuidString: row["id"])!
        authorID = UUID(uuidString: row["author_id"])!
        reflectionID = UUID(uuidString: row["reflection_id"])
        fields = RecordFields(body: row["body"], deleted: row["deleted"], hidden: row["hidden"])
        version = row["version"]
        stamp = HLCTimestamp(
            physical: row["hlc_physical"], counter: UInt32(row["hlc_counter"] as Int64), node: row["hlc_node"])
        seq = row["seq"]
        firstSharedSeq = row["first_shared_seq"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
    }

    var reflection: Reflection {
        Reflection(
            id: id, authorID: authorID, promptID: fields.promptID, title: fields.title ?? "", body: fields.body,
            visibility: fields.visibility ?? .private, createdAt: createdAt, updatedAt: updatedAt,
            deleted: fields.deleted,
            version: version)
    }

    var comment: Comment {
        Comment(
            id: id, reflectionID: reflectionID!, authorID: authorID, body: fields.body, createdAt: createdAt,
            updatedAt: updatedAt, deleted: fields.deleted, hidden: fields.hidden ?? false, version: version)
    }

    /// Whether a reflection is visible to members other than its author.
    var isShared: Bool { entity == .reflection && fields.visibility == .community && !fields.deleted }

    static func load(_ db: Database, entity: EntityKind, id: UUID) throws -> StoredRecord? {
        switch entity {
        case .reflection:
            try Row.fetchOne(db, sql: "SELECT * FROM reflections WHERE id = ?", arguments: [id.uuidString])
                .map(StoredRecord.init(reflectionRow:))
        case .comment:
            try Row.fetchOne(db, sql: "SELECT * FROM comments WHERE id = ?", arguments: [id.uuidString])
                .map(StoredRecord.init(commentRow:))
        }
    }
}
