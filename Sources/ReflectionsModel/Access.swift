import Foundation

/// The one privacy rule: who may see and change what.
///
/// Every reader and writer of records asks this type — push, pull, the log, `resolve`, and every later reader
/// (event streams, pages, resync). Where SQL filters rows for speed it only narrows the candidates
/// (``candidateSQL``), and the rows it keeps still pass through ``pullKind(of:to:since:)``; a seeded property
/// test checks pulls against this rule.
///
/// ## The rule
/// - **Reflections.** The author sees their own reflections always, deleted ones as tombstones. Another member
///   sees a reflection's content while it is shared: `community` and not deleted.
/// - **Comments.** A member sees a comment while its reflection is visible to them (shared, or their own) and the
///   comment is not hidden — a hidden comment stays visible to its own author. The author of a comment whose
///   reflection became private no longer sees it, like everyone else.
/// - **Leaving sight.** When a member stops seeing a record they may hold, they receive a removal (or a
///   tombstone, if it was deleted) that names only its entity and id — never its author, prompt, visibility,
///   times or text (``redactsLeaving(_:to:)``). They may hold it if they wrote it (a comment) or if it was shared
///   at or before their cursor. Anyone else receives nothing of the record at all, not even its id.
/// - **Conflict revisions** belong to the record's author and reach nobody else; they are looked up by entity
///   *and* record id, so a record of one entity can never reach the revisions of another.
/// - **Changes.** Only the author edits, deletes or resolves a record, and only while they see it. A moderator
///   may hide or show a comment whose reflection they can see, unless the comment was deleted (moderation never
///   revives). A comment may only be written on a shared reflection.
/// - **The log.** A member reads the log entries of their own actions only.
public enum Access {
    /// Who is asking.
    public struct Viewer: Hashable, Sendable {
        public var id: UUID
        public var isModerator: Bool

        public init(id: UUID, isModerator: Bool = false) {
            self.id = id
            self.isModerator = isModerator
        }

        public init(_ member: Member) {
            self.init(id: member.id, isModerator: member.role == .moderator)
        }
    }

    /// What the rule needs to know of a reflection: for a comment, the reflection it answers.
    public struct Parent: Hashable, Sendable {
        public var authorID: UUID
        /// Whether the reflection is shared now (see ``isShared(visibility:deleted:)``).
        public var shared: Bool

        public init(authorID: UUID, shared: Bool) {
            self.authorID = authorID
            self.shared = shared
        }
    }

    /// What the rule needs to know of a record.
    public struct Subject: Hashable, Sendable {
        public var entity: EntityKind
        public var authorID: UUID
        public var fields: RecordFields
        /// The first change-log sequence number at which members other than the author could see it (nil:
        /// never). For comments, their creation.
        public var firstSharedSeq: Int64?
        /// For comments: their reflection. Nil for reflections.
        public var parent: Parent?

        public init(
            entity: EntityKind, authorID: UUID, fields: RecordFields, firstSharedSeq: Int64?, parent: Parent? = nil
        ) {
            self.entity = entity
            self.authorID = authorID
            self.fields = fields
            self.firstSharedSeq = firstSharedSeq
            self.parent = parent
        }
    }

    /// What a member wants to do to a record.
    public enum Action: Hashable, Sendable {
        /// Change its fields (not `hidden`), or delete it.
        case edit
        /// Settle its conflict revisions.
        case resolve
        /// Hide or show a comment.
        case moderate
    }

    /// Why a change is refused.
    public enum Refusal: Hashable, Sendable {
        /// The record does not exist for this member: say nothing more than for a missing id.
        case notVisible
        /// They see it but may not change it this way.
        case notAllowed
        /// A moderator acted on a deleted comment.
        case deleted
    }

    // MARK: Seeing

    /// Whether a reflection with these fields is visible to members other than its author.
    public static func isShared(visibility: Visibility?, deleted: Bool) -> Bool {
        visibility == .community && !deleted
    }

    /// Whether a reflection is visible to members other than its author.
    public static func isShared(_ fields: RecordFields) -> Bool {
        isShared(visibility: fields.visibility, deleted: fields.deleted)
    }

    /// Whether `viewer` sees the record's current state (a tombstone, for their own deleted reflection).
    public static func sees(_ record: Subject, _ viewer: Viewer) -> Bool {
        let isAuthor = record.authorID == viewer.id
        switch record.entity {
        case .reflection:
            return isAuthor || isShared(record.fields)
        case .comment:
            guard let parent = record.parent else { return false }
            let parentVisible = parent.shared || parent.authorID == viewer.id
            return parentVisible && (record.fields.hidden != true || isAuthor)
        }
    }

    /// Whether `viewer` may hold the record on a device although they do not see it now: they wrote the comment,
    /// or the record was shared at or before their cursor `since`.
    public static func mayHold(_ record: Subject, _ viewer: Viewer, since: Int64) -> Bool {
        if record.authorID == viewer.id { return true }
        guard let shared = record.firstSharedSeq else { return false }
        return shared <= since
    }

    /// What a pull after `since` tells `viewer` about the record, or nil for nothing at all.
    public static func pullKind(of record: Subject, to viewer: Viewer, since: Int64) -> Change.Kind? {
        if sees(record, viewer) { return record.fields.deleted ? .tombstone : .upsert }
        guard mayHold(record, viewer, since: since) else { return nil }
        return record.entity == .reflection && record.fields.deleted ? .tombstone : .removal
    }

    /// Whether a change of this kind, sent to `viewer`, carries only the record's entity and id: every tombstone
    /// or removal sent to anyone but the author.
    public static func redactsLeaving(_ record: Subject, to viewer: Viewer) -> Bool {
        record.authorID != viewer.id
    }

    /// Whether `viewer` receives the record's open conflict revisions: only its author, only with its content.
    public static func receivesRevisions(of record: Subject, _ viewer: Viewer, kind: Change.Kind) -> Bool {
        record.authorID == viewer.id && kind == .upsert
    }

    /// Whether a conflict revision kept for (`entity`, `recordID`, `authorID`) belongs to the record `id`: same
    /// entity, same id, same author.
    public static func revision(
        entity: EntityKind, recordID: UUID, authorID: UUID, belongsTo record: Subject, id: UUID
    ) -> Bool {
        entity == record.entity && recordID == id && authorID == record.authorID
    }

    /// Whether `viewer` may read a change-log entry made by `actor`.
    public static func readsLogEntry(by actor: UUID, _ viewer: Viewer) -> Bool {
        actor == viewer.id
    }

    /// The SQL condition that narrows a pull's candidate rows (columns `author_id` and `first_shared_seq` of the
    /// record, bound to the viewer's id once): a record the viewer never wrote and that was never shared can
    /// never reach them. It keeps a superset of what ``pullKind(of:to:since:)`` lets through; every kept row still
    /// passes that rule. For comments, the reflection's columns are checked as well (``commentCandidateSQL``).
    public static let candidateSQL = "(author_id = ? OR first_shared_seq IS NOT NULL)"

    /// ``candidateSQL`` for a comment `c` joined with its reflection `r`, binding the viewer's id twice.
    public static let commentCandidateSQL =
        "(r.author_id = ? OR c.author_id = ? OR r.first_shared_seq IS NOT NULL)"

    // MARK: Changing

    /// Whether `viewer` may do `action` to the record; nil when they may.
    public static func refusal(_ action: Action, on record: Subject, by viewer: Viewer) -> Refusal? {
        switch action {
        case .edit, .resolve:
            guard sees(record, viewer) else { return .notVisible }
            return record.authorID == viewer.id ? nil : .notAllowed
        case .moderate:
            guard record.entity == .comment, let parent = record.parent,
                parent.shared || parent.authorID == viewer.id
            else { return .notVisible }
            guard viewer.isModerator else {
                return sees(record, viewer) ? .notAllowed : .notVisible
            }
            return record.fields.deleted ? .deleted : nil
        }
    }

    /// Whether `viewer` may write a comment on this reflection; nil when they may.
    public static func refusalToComment(on reflection: Subject, by viewer: Viewer) -> Refusal? {
        guard sees(reflection, viewer) else { return .notVisible }
        return isShared(reflection.fields) ? nil : .notAllowed
    }
}
