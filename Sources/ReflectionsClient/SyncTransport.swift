import ReflectionsModel

/// How the sync engine talks to the server: ``ServerConnection`` over HTTPS; tests may wrap it to inject faults.
public protocol SyncTransport: Sendable {
    func push(_ request: PushRequest, token: String) async throws -> PushResponse
    func pull(since: Int64, limit: Int, token: String) async throws -> PullResponse
}
