import Foundation
import GRDB
import ReflectionsModel

/// A reflection or comment row of the client store.
struct LocalRow: Sendable {
    var entity: EntityKind
    var id: UUID
    var authorID: UUID?
    var reflectionID: UUID?
    var fields: RecordFields
    var serverVersion: Int64
    var serverFields: RecordFields?
    var createdAt: Int64
    var updatedAt: Int64
    var conflicted: Bool
    /// The author's display name as the server last sent it (or this member's own, for their new records).
    var authorName: String? = nil

    /// The table that holds rows of `entity`.
    static func table(_ entity: EntityKind) -> String {
        switch entity {
        case .reflection: "reflections"
        case .comment: "comments"
        }
    }

    // Statements run once per pulled record use GRDB's statement cache: preparing one anew each time (with
    // GRDB's authorizer and region tracking) cost about a fifth of a full pull's client time in a profile.

    static func load(_ db: Database, _ entity: EntityKind, _ id: UUID) throws -> LocalRow? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM \(table(entity)) WHERE id = ?"), arguments: [id.uuidString]
        ).map { LocalRow($0, entity: entity) }
    }

    var reflection: Reflection {
        Reflection(
            id: id, authorID: authorID ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
            promptID: fields.promptID, title: fields.title ?? "", body: fields.body,
            visibility: fields.visibility ?? .private, createdAt: createdAt, updatedAt: updatedAt,
            deleted: fields.deleted, version: serverVersion, conflicted: conflicted, authorName: authorName)
    }

    var comment: Comment {
        Comment(
            id: id, reflectionID: reflectionID!,
            authorID: authorID ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
            body: fields.body, createdAt: createdAt, updatedAt: updatedAt, deleted: fields.deleted,
            hidden: fields.hidden ?? false, version: serverVersion, conflicted: conflicted, authorName: authorName)
    }

    /// Writes the row (insert or replace).
    func save(_ db: Database) throws {
        let server = serverFields?.jsonText
        switch entity {
        case .reflection:
            try db.cachedStatement(
                sql: """
                    INSERT INTO reflections (id, author_id, prompt_id, title, body, visibility, created_at, updated_at,
                        deleted, server_version, server_fields, conflicted, author_name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET author_id = excluded.author_id, prompt_id = excluded.prompt_id,
                        title = excluded.title, body = excluded.body, visibility = excluded.visibility,
                        created_at = excluded.created_at, updated_at = excluded.updated_at, deleted = excluded.deleted,
                        server_version = excluded.server_version, server_fields = excluded.server_fields,
                        conflicted = excluded.conflicted, author_name = COALESCE(excluded.author_name, author_name)
                    """
            ).execute(
                arguments: [
                    id.uuidString, authorID?.uuidString, fields.promptID, fields.title ?? "", fields.body,
                    (fields.visibility ?? .private).rawValue, createdAt, updatedAt, fields.deleted, serverVersion,
                    server, conflicted, authorName,
                ])
        case .comment:
            try db.cachedStatement(
                sql: """
                    INSERT INTO comments (id, reflection_id, author_id, body, created_at, updated_at, deleted, hidden,
                        server_version, server_fields, conflicted, author_name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET author_id = excluded.author_id, body = excluded.body,
                        created_at = excluded.created_at, updated_at = excluded.updated_at, deleted = excluded.deleted,
                        hidden = excluded.hidden, server_version = excluded.server_version,
                        server_fields = excluded.server_fields, conflicted = excluded.conflicted,
                        author_name = COALESCE(excluded.author_name, author_name)
                    """
            ).execute(
                arguments: [
                    id.uuidString, reflectionID?.uuidString, authorID?.uuidString, fields.body, createdAt, updatedAt,
                    fields.deleted, fields.hidden ?? false, serverVersion, server, conflicted, authorName,
                ])
        }
    }

    static func delete(_ db: Database, _ entity: EntityKind, _ id: UUID) throws {
        try db.cachedStatement(sql: "DELETE FROM \(table(entity)) WHERE id = ?").execute(arguments: [id.uuidString])
    }
}

extension LocalRow {
    init(_ row: Row, entity: EntityKind) {
        self.entity = entity
        id = UUID(uuidString: row["id"])!
        authorID = (row["author_id"] as String?).flatMap { UUID(uuidString: $0) }
        serverVersion = row["server_version"]
        serverFields = (row["server_fields"] as String?).flatMap {
            try? JSONDecoder().decode(RecordFields.self, from: Data($0.utf8))
        }
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        conflicted = row["conflicted"]
        authorName = row["author_name"]
        switch entity {
        case .reflection:
            reflectionID = nil
            fields = RecordFields(
                title: row["title"], body: row["body"], visibility: Visibility(rawValue: row["visibility"]) ?? .private,
                promptID: row["prompt_id"], deleted: row["deleted"])
        case .comment:
            reflectionID = UUID(uuidString: row["reflection_id"])
            fields = RecordFields(body: row["body"], deleted: row["deleted"], hidden: row["hidden"])
        }
    }
}
