import Foundation
import Logging
import ReflectionsModel
import ReflectionsServer
import ServiceLifecycle

/// A real reflectd over HTTPS on a random port, with its own temporary data folder, for end-to-end tests.
///
/// Passwords use cheap scrypt parameters (tests only). Always call ``stop()``, or use ``with(_:_:)``.
public final class LiveServer: Sendable {
    public let port: Int
    public let fingerprint: String
    public let certificatePEM: String
    public let dataDirectory: URL
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// `https://127.0.0.1:PORT`
    public var baseURL: String { "https://127.0.0.1:\(port)" }

    private init(
        port: Int, fingerprint: String, certificatePEM: String, dataDirectory: URL, group: ServiceGroup,
        task: Task<Void, any Error>
    ) {
        self.port = port
        self.fingerprint = fingerprint
        self.certificatePEM = certificatePEM
        self.dataDirectory = dataDirectory
        self.group = group
        self.task = task
    }

    /// Starts a server; with `dataDirectory` it reopens that folder (a restart), otherwise it uses a new one.
    public static func start(
        inviteOnly: Bool = false, dataDirectory: URL? = nil, port: Int = 0, idleTimeoutSeconds: Int64 = 30
    ) async throws -> LiveServer {
        let directory = dataDirectory ?? TemporaryDirectory.make(prefix: "reflectd")
        let configuration = ServerConfiguration(
            dataDirectory: directory, host: "127.0.0.1", port: port, inviteOnly: inviteOnly,
            passwordParameters: .fastForTests, idleTimeoutSeconds: idleTimeoutSeconds)
        try ReflectServer.prepareDataDirectory(configuration)
        let store = try SQLiteStore(path: configuration.databasePath)
        let tls = try ReflectServer.prepareTLS(configuration)
        var logger = Logger(label: "reflectd-test")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try ReflectServer.buildApplication(
            configuration: configuration, store: store, tls: tls, logger: logger,
            onRunning: { port in continuation.yield(port) })
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task {
            defer { try? store.close() }
            try await group.run()
        }
        var bound = 0
        for await port in ports {
            bound = port
            break
        }
        return LiveServer(
            port: bound, fingerprint: tls.fingerprint, certificatePEM: tls.certificateChainPEM,
            dataDirectory: directory, group: group, task: task)
    }

    /// Stops the server gracefully and waits until it has closed its database.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Runs `body` with a fresh server and stops it afterwards, even if `body` throws.
    public static func with<T>(inviteOnly: Bool = false, _ body: (LiveServer) async throws -> T) async throws -> T {
        let server = try await start(inviteOnly: inviteOnly)
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }
}

/// Temporary folders for tests.
public enum TemporaryDirectory {
    /// A new empty folder under the system's temporary directory.
    public static func make(prefix: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
