import Foundation
import ReflectionsClient
import ReflectionsModel
import Synchronization

/// Wraps the real HTTPS connection and records each push and pull: latency and bytes received.
final class TimingTransport: SyncTransport {
    let inner: ServerConnection
    let pushTimes = Mutex<[Double]>([])
    let pullTimes = Mutex<[Double]>([])

    init(_ inner: ServerConnection) { self.inner = inner }

    func push(_ request: PushRequest, token: String) async throws -> PushResponse {
        let (response, seconds) = try await Stats.time { try await inner.push(request, token: token) }
        pushTimes.withLock { $0.append(seconds) }
        return response
    }

    func pull(since: Int64, limit: Int, token: String, epoch: String?, fullDownload: DownloadFromZero?) async throws
        -> PullResponse
    {
        let (response, seconds) = try await Stats.time {
            try await inner.pull(since: since, limit: limit, token: token, epoch: epoch, fullDownload: fullDownload)
        }
        pullTimes.withLock { $0.append(seconds) }
        return response
    }

    func reset() {
        pushTimes.withLock { $0 = [] }
        pullTimes.withLock { $0 = [] }
    }
}

/// One benchmark device: a real client store in a temporary home, logged in over HTTPS.
final class BenchDevice: Sendable {
    let store: ClientStore
    let connection: ServerConnection
    let transport: TimingTransport
    let home: URL

    init(store: ClientStore, connection: ServerConnection, home: URL) {
        self.store = store
        self.connection = connection
        self.transport = TimingTransport(connection)
        self.home = home
    }

    static func make(server: String, trust: ServerTrust, handle: String, password: String, register: Bool) async throws
        -> BenchDevice
    {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("reflect-bench-\(UUID().uuidString)")
        let store = try ClientStore.open(home: home)
        try store.initialize(serverURL: server, trust: trust)
        let connection = try ServerConnection(serverURL: server, trust: trust)
        if register { _ = try await connection.register(handle: handle, password: password, displayName: nil) }
        let session = try await connection.login(handle: handle, password: password)
        try store.saveSession(token: session.token, member: session.member)
        return BenchDevice(store: store, connection: connection, home: home)
    }

    var engine: SyncEngine { SyncEngine(store: store, transport: transport) }

    func close() async {
        try? await connection.shutdown()
        try? store.close()
        try? FileManager.default.removeItem(at: home)
    }
}
