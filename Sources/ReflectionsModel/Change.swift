import Foundation

/// One entry of a pull: the state of one record, as the caller may see it, at a sequence number.
public struct Change: Codable, Hashable, Sendable {
    /// What the caller must do with the record.
    public enum Kind: String, Codable, Hashable, Sendable {
        /// Store this version of the record.
        case upsert
        /// The record was deleted: keep only its tombstone.
        case tombstone
        /// The caller may no longer see the record (it became private, was hidden, or its reflection did):
        /// forget it, and for a reflection its comments too.
        case removal
    }

    public var sequence: Int64
    public var entity: EntityKind
    public var id: UUID
    public var kind: Kind
    /// For reflections: the record (with its content for `upsert`, its id and version for `tombstone`).
    public var reflection: Reflection?
    /// For comments: likewise.
    public var comment: Comment?
    /// For the author only: the record's open conflict revisions (empty when there are none).
    public var revisions: [ConflictRevision]?

    public init(
        sequence: Int64, entity: EntityKind, id: UUID, kind: Kind, reflection: Reflection? = nil,
        comment: Comment? = nil, revisions: [ConflictRevision]? = nil
    ) {
        self.sequence = sequence
        self.entity = entity
        self.id = id
        self.kind = kind
        self.reflection = reflection
        self.comment = comment
        self.revisions = revisions
    }
}
