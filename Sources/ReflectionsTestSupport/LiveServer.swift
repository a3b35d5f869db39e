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
    /// The server's store, for tests that look behind the API (an operator's view).
    public let store: any ServerStore
    /// Where the data lives: SQLite in ``dataDirectory`` or a PostgreSQL database.
    public let database: TestDatabase
    /// The metrics listener's port, when started with `metrics: true`.
    public let metricsPort: Int?
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// `https://127.0.0.1:PORT`
    public var baseURL: String { "https://127.0.0.1:\(port)" }

    private init(
        port: Int, fingerprint: String, certificatePEM: String, dataDirectory: URL, store: any ServerStore,
        database: TestDatabase, group: ServiceGroup, task: Task<Void, any Error>, metricsPort: Int? = nil
    ) {
        self.metricsPort = metricsPort
        self.store = store
        self.database = database
        self.port = port
        self.fingerprint = fingerprint
        self.certificatePEM = certificatePEM
        self.dataDirectory = dataDirectory
        self.group = group
        self.task = task
    }

    /// Starts a server; with `dataDirectory` it reopens that folder (a restart), otherwise it uses a new one.
    ///
    /// `database` nil takes the engine from the environment (``TestDatabase/fromEnvironment()``): a new SQLite
    /// file, or a new PostgreSQL database when `REFLECT_TEST_ENGINE=postgres`. Pass another server's
    /// ``database`` to run a second server on the same data (PostgreSQL), or to restart one.
    public static func start(
        inviteOnly: Bool = false, dataDirectory: URL? = nil, port: Int = 0, idleTimeoutSeconds: Int64 = 30,
        headerTimeoutSeconds: Int64 = 10, requestTimeoutSeconds: Int64 = 60, database: TestDatabase? = nil,
        events: EventHub.Configuration = EventHub.Configuration(), metrics: Bool = false, clock: WallClock = .system
    ) async throws -> LiveServer {
        let directory = dataDirectory ?? TemporaryDirectory.make(prefix: "reflectd")
        var engine = database ?? .sqlite
        if database == nil { engine = try await TestDatabase.fromEnvironment() }
        var configuration = ServerConfiguration(
            dataDirectory: directory, host: "127.0.0.1", port: port, inviteOnly: inviteOnly,
            passwordParameters: .fastForTests, idleTimeoutSeconds: idleTimeoutSeconds, database: engine.url,
            headerTimeoutSeconds: headerTimeoutSeconds, requestTimeoutSeconds: requestTimeoutSeconds)
        configuration.events = events
        configuration.clock = clock
        if metrics { configuration.metricsPort = 0 }
        try ReflectServer.prepareDataDirectory(configuration)
        var storeLogger = Logger(label: "reflectd-test-store")
        storeLogger.logLevel = .warning
        let store = try await configuration.openStore(logger: storeLogger)
        let tls = try ReflectServer.prepareTLS(configuration)
        var logger = Logger(label: "reflectd-test")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let (metricsPorts, metricsContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try ReflectServer.buildApplication(
            configuration: configuration, store: store, tls: tls, logger: logger,
            onRunning: { port in continuation.yield(port) },
            onMetricsRunning: { port in metricsContinuation.yield(port) })
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let task = Task {
            do {
                try await group.run()
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
        var bound = 0
        for await port in ports {
            bound = port
            break
        }
        var metricsBound: Int?
        if metrics {
            for await port in metricsPorts {
                metricsBound = port
                break
            }
        }
        return LiveServer(
            port: bound, fingerprint: tls.fingerprint, certificatePEM: tls.certificateChainPEM,
            dataDirectory: directory, store: store, database: engine, group: group, task: task,
            metricsPort: metricsBound)
    }

    /// Stops the server gracefully and waits until it has closed its database.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Runs `body` with a fresh server and stops it afterwards, even if `body` throws.
    ///
    /// `clock` is the server's wall clock; a test whose answers depend on a wait (the login throttle's) fixes it,
    /// so that a loaded machine cannot let the wait run out between two requests.
    public static func with<T>(
        inviteOnly: Bool = false, clock: WallClock = .system, _ body: (LiveServer) async throws -> T
    ) async throws -> T {
        let server = try await start(inviteOnly: inviteOnly, clock: clock)
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
    /// This test process's folder, `<tmp>/reflect-tests/<pid>`: every test folder is made inside it. Tests do not
    /// remove their own (a failing test's files stay to be looked at); instead the first folder a run makes removes
    /// those of earlier runs whose process has ended — without it, each full run left a gigabyte or more behind.
    static let root: URL = {
        let manager = FileManager.default
        let base = manager.temporaryDirectory.appendingPathComponent("reflect-tests")
        try? manager.createDirectory(at: base, withIntermediateDirectories: true)
        let mine = getpid()
        for name in (try? manager.contentsOfDirectory(atPath: base.path)) ?? [] {
            guard let pid = Int32(name), pid != mine, kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? manager.removeItem(at: base.appendingPathComponent(name))
        }
        let folder = base.appendingPathComponent(String(mine))
        try? manager.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// A new empty folder under this run's temporary folder.
    public static func make(prefix: String) -> URL {
        let url = root.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
