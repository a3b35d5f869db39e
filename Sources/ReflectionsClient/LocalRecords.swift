import Foundation
import ReflectionsModel

/// A reflection as this device holds it, with everything `reflect show` needs.
public struct LocalReflection: Sendable, Codable {
    public var reflection: Reflection
    /// Whether the author is this device's member.
    public var isMine: Bool
    /// Local changes not yet acknowledged by the server.
    public var pendingMutations: Int
    public var comments: [LocalComment]
    /// Open conflict revisions (the author's only).
    public var revisions: [ConflictRevision]
    /// The server version this device last saw (the base of a diff).
    public var serverFields: RecordFields?
}

/// A comment as this device holds it.
public struct LocalComment: Sendable, Codable {
    public var comment: Comment
    public var isMine: Bool
    public var pendingMutations: Int
}

/// One entry of the outbox, for `status` and `log`.
public struct OutboxEntry: Sendable, Codable {
    public var mutationID: UUID
    public var entity: EntityKind
    public var recordID: UUID
    public var operation: String
    public var createdAt: Int64
    public var state: String
    public var rejectCode: String?
    public var rejectReason: String?
    /// The text the mutation carries (so that a rejected one is never lost from view).
    public var text: String?
}

/// What `reflect status` shows.
public struct StoreStatus: Sendable, Codable {
    public var server: String?
    public var member: String?
    public var loggedIn: Bool
    public var clientID: String?
    public var pendingMutations: Int
    public var oldestPendingAt: Int64?
    public var rejectedMutations: [OutboxEntry]
    public var lastSync: SyncRunRecord?
    /// When a later sync last found nothing to move (such syncs are not in the log), if any.
    public var upToDateAt: Int64?
    public var openConflicts: Int
    public var cursor: Int64
    /// The last resync (the server restored from a backup, or this device's cursor expired): when, and why.
    public var lastResync: LastResync? = nil
}

/// When and why this device last resynced.
public struct LastResync: Sendable, Codable {
    public var at: Int64
    public var detail: String
}

/// One sync run of the local sync log.
public struct SyncRunRecord: Sendable, Codable {
    public var id: Int64
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var status: String
    public var pushed: Int
    public var pulled: Int
    public var merged: Int
    public var conflicts: Int
    public var rejected: Int
    public var error: String?
}

/// One event of the local sync log.
public struct SyncEventRecord: Sendable, Codable {
    public var id: Int64
    public var runID: Int64?
    public var at: Int64
    public var direction: String
    public var entity: String?
    public var recordID: String?
    public var mutationID: String?
    public var outcome: String
    public var detail: String?
}

/// A conflicted record, for `reflect conflicts`.
public struct ConflictSummary: Sendable, Codable {
    public var entity: EntityKind
    public var recordID: UUID
    public var title: String
    public var revisions: [ConflictRevision]
}

/// How the member resolves a conflicted record.
public enum ResolveChoice: Sendable {
    /// Keep the current version (`--theirs` when the current one came from another device).
    case keepCurrent
    /// Take the conflict revision (the losing side).
    case takeRevision
    /// Replace the text with this merged body.
    case merged(body: String)
}
