import Foundation

/// The body of `POST /v1/sync/push`: a batch of mutations from one client, applied in one transaction.
public struct PushRequest: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    /// The device pushing; it belongs to the member who first used it.
    public var clientID: UUID
    /// At most ``Limits/pushMaxMutations``, in the order they were made.
    public var mutations: [Mutation]

    public init(protocolVersion: Int = SyncProtocol.version, clientID: UUID, mutations: [Mutation]) {
        self.protocolVersion = protocolVersion
        self.clientID = clientID
        self.mutations = mutations
    }
}
