/// The answer to `GET /v1/sync/pull?since=SEQ&limit=N`.
public struct PullResponse: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    /// The changes after `since` that the caller may see, in sequence order.
    public var changes: [Change]
    /// The cursor for the next pull: pass it as `since`.
    public var nextCursor: Int64
    /// Whether more changes wait after `nextCursor`.
    public var hasMore: Bool

    public init(protocolVersion: Int = SyncProtocol.version, changes: [Change], nextCursor: Int64, hasMore: Bool) {
        self.protocolVersion = protocolVersion
        self.changes = changes
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }
}
