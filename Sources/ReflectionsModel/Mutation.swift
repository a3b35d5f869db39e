import Foundation

/// One local change, as a client records it in its outbox and pushes it to the server.
///
/// A mutation carries only the fields that changed, the server version the edit started from (`baseVersion`,
/// absent for a create) and a hybrid-logical-clock stamp. Pushing it is idempotent: the server keys it by
/// (`clientID`, `id`) and answers a re-sent mutation with its first outcome.
public struct Mutation: Codable, Hashable, Sendable, Identifiable {
    /// What the mutation does to its target.
    public enum Operation: String, Codable, Hashable, Sendable, CaseIterable {
        /// Makes a new record with the client-made id.
        case create
        /// Changes fields of an existing record.
        case update
        /// Deletes the record (it becomes a tombstone).
        case delete
        /// Ends conflicts: see ``Resolution``.
        case resolve
    }

    /// The record a mutation changes.
    public struct Target: Codable, Hashable, Sendable {
        public var entity: EntityKind
        public var id: UUID
        public init(entity: EntityKind, id: UUID) {
            self.entity = entity
            self.id = id
        }
    }

    public var id: UUID
    public var clientID: UUID
    public var target: Target
    public var operation: Operation
    /// The server version the edit started from; `nil` for a create.
    public var baseVersion: Int64?
    /// Only the fields that changed.
    public var changes: FieldChanges
    /// Present for `resolve` only.
    public var resolution: Resolution?
    public var hlc: HLCTimestamp

    public init(
        id: UUID = UUID(), clientID: UUID, target: Target, operation: Operation, baseVersion: Int64? = nil,
        changes: FieldChanges = FieldChanges(), resolution: Resolution? = nil, hlc: HLCTimestamp
    ) {
        self.id = id
        self.clientID = clientID
        self.target = target
        self.operation = operation
        self.baseVersion = baseVersion
        self.changes = changes
        self.resolution = resolution
        self.hlc = hlc
    }
}
