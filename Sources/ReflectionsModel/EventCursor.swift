/// The data of a change stream's `event: changes` (`GET /v1/sync/events`): the server's cursor when there was
/// something new for the reader. Pull until your cursor reaches it.
public struct EventCursor: Codable, Sendable, Hashable {
    public var cursor: Int64

    public init(cursor: Int64) {
        self.cursor = cursor
    }
}
