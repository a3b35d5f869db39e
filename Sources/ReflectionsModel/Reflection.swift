import Foundation

/// A member's written reflection, as stored by the server and mirrored by each client.
///
/// Times are milliseconds since 1970 (integers on the wire); `version` is the server's version of the record
/// (0 for a record the server has not seen yet).
public struct Reflection: Codable, Hashable, Sendable, Identifiable {
    /// Made by the client that created the reflection.
    public var id: UUID
    public var authorID: UUID
    public var promptID: Int?
    public var title: String
    public var body: String
    public var visibility: Visibility
    /// When the server received it.
    public var createdAt: Int64
    /// When its author wrote it: the writing device's clock, never later than the server's receive time (so a
    /// wrong clock cannot put it in the future). Nil from servers that predate it; use `createdAt` then.
    public var writtenAt: Int64?
    public var updatedAt: Int64
    public var deleted: Bool
    public var version: Int64
    /// Set while the author has unresolved conflict revisions for this reflection.
    public var conflicted: Bool
    /// The author's display name when the server sent the record (a rename re-sends the author's records). Nil
    /// from servers that predate it, and for records not yet synced.
    public var authorName: String?

    public init(
        id: UUID, authorID: UUID, promptID: Int? = nil, title: String, body: String,
        visibility: Visibility = .private, createdAt: Int64, updatedAt: Int64? = nil, deleted: Bool = false,
        version: Int64 = 0, conflicted: Bool = false, writtenAt: Int64? = nil, authorName: String? = nil
    ) {
        self.id = id
        self.authorID = authorID
        self.promptID = promptID
        self.title = title
        self.body = body
        self.visibility = visibility
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.deleted = deleted
        self.version = version
        self.conflicted = conflicted
        self.writtenAt = writtenAt
        self.authorName = authorName
    }

    /// The fields that merge (see ``RecordMerge``).
    public var fields: RecordFields {
        get {
            RecordFields(title: title, body: body, visibility: visibility, promptID: promptID, deleted: deleted)
        }
        set {
            title = newValue.title ?? title
            body = newValue.body
            visibility = newValue.visibility ?? visibility
            promptID = newValue.promptID
            deleted = newValue.deleted
        }
    }
}
