import ReflectionsModel

/// How the sync engine talks to the server: ``ServerConnection`` over HTTPS; tests may wrap it to inject faults.
public protocol SyncTransport: Sendable {
    func push(_ request: PushRequest, token: String) async throws -> PushResponse
    /// `epoch`: the server epoch this device knows, if any (the server answers 409 `server_restored` when it
    /// differs).
    /// `fullDownload`: this page belongs to a download that started from 0 (a resync), whose cursors may pass
    /// below the server's compaction horizon on their way.
    func pull(since: Int64, limit: Int, token: String, epoch: String?, fullDownload: Bool) async throws
        -> PullResponse
}
