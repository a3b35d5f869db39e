import ReflectionsModel

/// How the sync engine talks to the server: ``ServerConnection`` over HTTPS; tests may wrap it to inject faults.
public protocol SyncTransport: Sendable {
    func push(_ request: PushRequest, token: String) async throws -> PushResponse
    /// Sends a push whose mutations are the outbox's stored JSON (the sync engine's way: nothing decoded and
    /// encoded again). The default decodes them and sends the typed request, for transports that
    /// hand the request to a store in-process; a transport over HTTP sends the text as it is.
    func push(_ push: EncodedPush, token: String) async throws -> PushResponse
    /// `epoch`: the server epoch this device knows, if any (the server answers 409 `server_restored` when it
    /// differs).
    /// `fullDownload`: this page belongs to a download that started from 0 (a resync), whose cursors may pass
    /// below the server's compaction horizon on their way.
    ///
    /// `fullDownload` carries the horizon the download's first page named (nil: not a download from 0).
    func pull(since: Int64, limit: Int, token: String, epoch: String?, fullDownload: DownloadFromZero?) async throws
        -> PullResponse
}

extension SyncTransport {
    public func push(_ push: EncodedPush, token: String) async throws -> PushResponse {
        try await self.push(try push.request(), token: token)
    }
}

/// A page of a download that started from 0 (a resync): its cursors may pass below the compaction horizon, and
/// `horizon` is the one its first page named (a later page is refused if it moved: the download starts again).
public struct DownloadFromZero: Sendable, Hashable {
    public var horizon: Int64?

    public init(horizon: Int64?) {
        self.horizon = horizon
    }
}
