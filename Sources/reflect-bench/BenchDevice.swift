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

    func push(_ push: EncodedPush, token: String) async throws -> PushResponse {
        let (response, seconds) = try await Stats.time { try await inner.push(push, token: token) }
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
        let client = try Home.open(home)
        try client.setUp(serverURL: server, trust: trust)
        do {
            if register {
                try await client.register(handle: handle, password: password)
            } else {
                try await client.login(handle: handle, password: password)
            }
            return BenchDevice(store: client.store, connection: try client.connection(), home: home)
        } catch {
            try? await client.close()
            throw error
        }
    }

    var engine: SyncEngine { SyncEngine(store: store, transport: transport) }

    func close() async {
        try? await connection.shutdown()
        try? store.close()
        try? FileManager.default.removeItem(at: home)
    }
}
