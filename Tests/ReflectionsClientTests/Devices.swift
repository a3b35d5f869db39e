import Foundation
import ReflectionsClient
import ReflectionsModel
import ReflectionsTestSupport
import Synchronization

/// A client home with its store and connection, as one device of one member.
final class Device: Sendable {
    let home: URL
    let store: ClientStore
    let connection: ServerConnection

    init(home: URL, store: ClientStore, connection: ServerConnection) {
        self.home = home
        self.store = store
        self.connection = connection
    }

    /// A new home set up for `server` (pinning its certificate) and logged in as `handle`.
    static func make(_ server: LiveServer, handle: String, register: Bool) async throws -> Device {
        let home = TemporaryDirectory.make(prefix: "reflect-home")
        let store = try ClientStore.open(home: home)
        let pem = try await ServerConnection.fetchPinnedCertificate(serverURL: server.baseURL, pin: server.fingerprint)
        try store.initialize(
            serverURL: server.baseURL, trust: .pinned(fingerprint: server.fingerprint, certificatePEM: pem))
        let connection = try ServerConnection(serverURL: server.baseURL, trust: try store.settings().trust!)
        let password = "a long enough password"
        if register { _ = try await connection.register(handle: handle, password: password, displayName: nil) }
        let session = try await connection.login(handle: handle, password: password)
        try store.saveSession(token: session.token, member: session.member)
        return Device(home: home, store: store, connection: connection)
    }

    @discardableResult
    func sync(_ transport: (any SyncTransport)? = nil) async throws -> SyncSummary {
        try await SyncEngine(store: store, transport: transport ?? connection).sync()
    }

    func close() async throws {
        try await connection.shutdown()
        try store.close()
    }

    /// The body of a reflection as this device shows it.
    func body(_ id: UUID) throws -> String { try store.reflection(id: id).reflection.body }
}

/// A transport that loses responses or fails part-way, to interrupt a sync at chosen points.
final class FaultyTransport: SyncTransport {
    struct Injected: Error {}
    let inner: any SyncTransport
    /// Pushes whose response is lost after the server applied them.
    let lostPushResponses: Mutex<Int>
    /// Pushes answered normally before the lost ones.
    let answeredPushes: Mutex<Int>
    /// Pull pages served before the connection "drops".
    let pullPagesBeforeFailure: Mutex<Int>

    init(
        _ inner: any SyncTransport, answerPushes: Int = 0, thenLosePushResponses losePushResponses: Int = 0,
        pullPagesBeforeFailure: Int = .max
    ) {
        self.inner = inner
        self.answeredPushes = Mutex(answerPushes)
        self.lostPushResponses = Mutex(losePushResponses)
        self.pullPagesBeforeFailure = Mutex(pullPagesBeforeFailure)
    }

    func push(_ request: PushRequest, token: String) async throws -> PushResponse {
        let response = try await inner.push(request, token: token)
        let answer = answeredPushes.withLock { count in
            defer { count -= 1 }
            return count > 0
        }
        if answer { return response }
        let lose = lostPushResponses.withLock { count in
            defer { count -= 1 }
            return count > 0
        }
        if lose { throw Injected() }
        return response
    }

    func pull(since: Int64, limit: Int, token: String, epoch: String?, fullDownload: Bool) async throws
        -> PullResponse
    {
        let fail = pullPagesBeforeFailure.withLock { count in
            defer { count -= 1 }
            return count <= 0
        }
        if fail { throw Injected() }
        return try await inner.pull(since: since, limit: limit, token: token, epoch: epoch, fullDownload: fullDownload)
    }
}
