import Foundation

/// A version of a record that lost a true conflict, kept whole for its author to resolve.
///
/// Its id is the id of the mutation it came from, so the same conflict kept twice is the same revision.
public struct ConflictRevision: Codable, Hashable, Sendable, Identifiable {
    /// Why the revision was kept.
    public enum Kind: String, Codable, Hashable, Sendable {
        /// Both sides edited the same words; the revision holds the incoming side whole.
        case text
        /// The incoming side deleted a record that the current side had edited: the edit survived, and the
        /// revision records the delete.
        case deleteVersusEdit
        /// The incoming side edited a record that the current side had deleted: the edit survived (the record
        /// is back), and the revision records the delete it undid.
        case editVersusDelete
    }

    public var id: UUID
    public var entity: EntityKind
    public var recordID: UUID
    public var kind: Kind
    /// The losing side, whole.
    public var fields: RecordFields
    /// The version both sides started from, for a diff.
    public var base: RecordFields?
    public var baseVersion: Int64?
    /// The device that made the losing side.
    public var clientID: UUID
    /// That device's name, if its member gave one (`reflect init --device-name`); only ever sent to the author,
    /// whose device it is.
    public var deviceName: String?
    public var hlc: HLCTimestamp
    /// When the server kept it (milliseconds since 1970).
    public var createdAt: Int64

    public init(
        id: UUID, entity: EntityKind, recordID: UUID, kind: Kind, fields: RecordFields, base: RecordFields?,
        baseVersion: Int64?, clientID: UUID, hlc: HLCTimestamp, createdAt: Int64, deviceName: String? = nil
    ) {
        self.id = id
        self.entity = entity
        self.recordID = recordID
        self.kind = kind
        self.fields = fields
        self.base = base
        self.baseVersion = baseVersion
        self.clientID = clientID
        self.hlc = hlc
        self.createdAt = createdAt
        self.deviceName = deviceName
    }
}
