/// The parameters of a pull, sent as the query `?since=SEQ&limit=N`.
public struct PullRequest: Codable, Hashable, Sendable {
    /// Changes after this sequence number (0 for everything).
    public var since: Int64
    /// At most this many changes (1 to ``Limits/pullMaxLimit``).
    public var limit: Int

    public init(since: Int64 = 0, limit: Int = Limits.pullDefaultLimit) {
        self.since = since
        self.limit = limit
    }

    /// The query string, without `?`.
    public var query: String { "since=\(since)&limit=\(limit)" }
}
