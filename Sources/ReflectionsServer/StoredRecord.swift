import Foundation
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
    /// When the author wrote it (nil for records older than migration 0004).
    var writtenAt: Int64?
    /// For comments loaded with their reflection's columns (`parent_author_id`, `parent_visibility`,
    /// `parent_deleted`): what ``Access`` needs to know of that reflection.
    var parent: Access.Parent?

    init(reflectionRow row: SQLRow) {
        self.init(
            entity: .reflection, row: row, reflectionID: nil,
            fields: RecordFields(
                title: row.text("title"), body: row.text("body"),
                visibility: Visibility(rawValue: row.text("visibility")) ?? .private,
                promptID: row.optionalInteger("prompt_id").map { Int($0) }, deleted: row.bool("deleted")))
    }

    init(commentRow row: SQLRow) {
        self.init(
            entity: .comment, row: row, reflectionID: row.uuid("reflection_id"),
            fields: RecordFields(body: row.text("body"), deleted: row.bool("deleted"), hidden: row.bool("hidden")))
        if let parentAuthor = row.optionalText("parent_author_id").flatMap(UUIDText.parse) {
            parent = Access.Parent(
                authorID: parentAuthor,
                shared: Access.isShared(
                    visibility: Visibility(rawValue: row.text("parent_visibility")),
                    deleted: row.bool("parent_deleted")))
        }
    }

    /// The SQL that selects comments with the columns of their reflection that ``parent`` reads.
    static let commentWithParentSQL = """
        SELECT c.*, r.author_id AS parent_author_id, r.visibility AS parent_visibility, r.deleted AS parent_deleted
        FROM comments c JOIN reflections r ON r.id = c.reflection_id
        """

    private init(entity: EntityKind, row: SQLRow, reflectionID: UUID?, fields: RecordFields) {
        self.entity = entity
        id = row.uuid("id")
        authorID = row.uuid("author_id")
        self.reflectionID = reflectionID
        self.fields = fields
        version = row.integer("version")
        stamp = HLCTimestamp(
            physical: row.integer("hlc_physical"), counter: UInt32(row.integer("hlc_counter")),
            node: row.text("hlc_node"))
        seq = row.integer("seq")
        firstSharedSeq = row.optionalInteger("first_shared_seq")
        createdAt = row.integer("created_at")
        updatedAt = row.integer("updated_at")
        writtenAt = row.optionalInteger("written_at")
    }

    var reflection: Reflection {
        Reflection(
            id: id, authorID: authorID, promptID: fields.promptID, title: fields.title ?? "", body: fields.body,
            visibility: fields.visibility ?? .private, createdAt: createdAt, updatedAt: updatedAt,
            deleted: fields.deleted, version: version, writtenAt: writtenAt)
    }

    var comment: Comment {
        Comment(
            id: id, reflectionID: reflectionID!, authorID: authorID, body: fields.body, createdAt: createdAt,
            updatedAt: updatedAt, deleted: fields.deleted, hidden: fields.hidden ?? false, version: version,
            writtenAt: writtenAt)
    }

    /// What the privacy rule needs to know of this record.
    var subject: Access.Subject {
        Access.Subject(
            entity: entity, authorID: authorID, fields: fields, firstSharedSeq: firstSharedSeq, parent: parent)
    }

    /// The record with this entity and id (a comment with its reflection's columns), if any.
    static func load(_ tx: any SQLTransaction, entity: EntityKind, id: UUID) throws -> StoredRecord? {
        switch entity {
        case .reflection:
            try tx.fetchOne("SELECT * FROM reflections WHERE id = ?", id).map(StoredRecord.init(reflectionRow:))
        case .comment:
            try tx.fetchOne("\(commentWithParentSQL) WHERE c.id = ?", id).map(StoredRecord.init(commentRow:))
        }
    }
}
