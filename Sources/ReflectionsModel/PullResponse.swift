/// The answer to `GET /v1/sync/pull?since=SEQ&limit=N`.
public struct PullResponse: Codable, Hashable, Sendable {
    public var protocolVersion: Int
    /// The changes after `since` that the caller may see, in sequence order.
    public var changes: [Change]
    /// The cursor for the next pull: pass it as `since`.
    public var nextCursor: Int64
    /// Whether more changes wait after `nextCursor`.
    public var hasMore: Bool
    /// The server database's epoch (see `GET /v1/sync/pull`'s `epoch` parameter): it changes only when the
    /// database is restored from a backup. Absent from servers before it existed.
    public var epoch: String?
    /// The server's compaction horizon when the page was read: a download from 0 sends it back with its later
    /// pages (`horizon=`), and a page read after the horizon moved is refused (410), so a download that straddles
    /// a compaction starts again instead of keeping a record deleted between its pages.
    public var horizon: Int64?

    public init(
        protocolVersion: Int = SyncProtocol.version, changes: [Change], nextCursor: Int64, hasMore: Bool,
        epoch: String? = nil, horizon: Int64? = nil
    ) {
        self.horizon = horizon
        self.protocolVersion = protocolVersion
        self.changes = changes
        self.nextCursor = nextCursor
        self.hasMore = hasMore
        self.epoch = epoch
    }
}
