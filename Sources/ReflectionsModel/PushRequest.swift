import Foundation

/// The body of `POST /v1/sync/push`: a batch of mutations from one client, applied in one transaction.
public struct PushRequest: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    /// The device pushing; it belongs to the member who first used it.
    public var clientID: UUID
    /// At most ``Limits/pushMaxMutations``, in the order they were made.
    public var mutations: [Mutation]
    /// The name the member gave this device (`reflect init --device-name`), shown to them in conflicts on their
    /// other devices; at most ``Limits/deviceNameMaxBytes`` bytes. Absent: the server keeps the name it has.
    public var deviceName: String?
    /// The server epoch the client last saw (``PullResponse/epoch``); a server whose epoch differs refuses the
    /// push with 409 `server_restored` before applying anything. Absent: not checked.
    public var epoch: String?
    /// The device's pull cursor: below the server's compaction horizon, the push is refused whole with 410
    /// `cursor_expired` (the device resyncs first). Absent: not checked.
    public var cursor: Int64?

    public init(
        protocolVersion: Int = SyncProtocol.version, clientID: UUID, mutations: [Mutation], deviceName: String? = nil,
        epoch: String? = nil, cursor: Int64? = nil
    ) {
        self.cursor = cursor
        self.epoch = epoch
        self.protocolVersion = protocolVersion
        self.clientID = clientID
        self.mutations = mutations
        self.deviceName = deviceName
    }
}
