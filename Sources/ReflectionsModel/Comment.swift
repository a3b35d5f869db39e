import Foundation

/// A member's comment on a `community` reflection.
public struct Comment: Codable, Hashable, Sendable, Identifiable {
    /// Made by the client that created the comment.
    public var id: UUID
    public var reflectionID: UUID
    public var authorID: UUID
    public var body: String
    /// When the server received it.
    public var createdAt: Int64
    /// When its author wrote it: the writing device's clock, never later than the server's receive time (so a
    /// wrong clock cannot put it in the future). Nil from servers that predate it; use `createdAt` then.
    public var writtenAt: Int64?
    public var updatedAt: Int64
    public var deleted: Bool
    /// Set by a moderator: the comment is no longer shown to anyone but its author.
    public var hidden: Bool
    public var version: Int64
    /// Set while the author has unresolved conflict revisions for this comment.
    public var conflicted: Bool
    /// The author's display name when the server sent the record (see ``Reflection/authorName``).
    public var authorName: String?

    public init(
        id: UUID, reflectionID: UUID, authorID: UUID, body: String, createdAt: Int64, updatedAt: Int64? = nil,
        deleted: Bool = false, hidden: Bool = false, version: Int64 = 0, conflicted: Bool = false,
        writtenAt: Int64? = nil, authorName: String? = nil
    ) {
        self.id = id
        self.reflectionID = reflectionID
        self.authorID = authorID
        self.body = body
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.deleted = deleted
        self.hidden = hidden
        self.version = version
        self.conflicted = conflicted
        self.writtenAt = writtenAt
        self.authorName = authorName
    }

    /// The fields that merge (see ``RecordMerge``).
    public var fields: RecordFields {
        get { RecordFields(body: body, deleted: deleted, hidden: hidden) }
        set {
            body = newValue.body
            deleted = newValue.deleted
            hidden = newValue.hidden ?? hidden
        }
    }
}
