/// The answer to a push: one result per mutation, in the same order.
public struct PushResponse: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    public var results: [MutationResult]

    public init(protocolVersion: Int = SyncProtocol.version, results: [MutationResult]) {
        self.protocolVersion = protocolVersion
        self.results = results
    }
}
