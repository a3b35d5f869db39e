/// The answer to a push: one result per mutation, in the same order.
public struct PushResponse: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    public var results: [MutationResult]
    /// The server database's epoch (see ``PullResponse/epoch``).
    public var epoch: String?

    public init(protocolVersion: Int = SyncProtocol.version, results: [MutationResult], epoch: String? = nil) {
        self.epoch = epoch
        self.protocolVersion = protocolVersion
        self.results = results
    }
}
