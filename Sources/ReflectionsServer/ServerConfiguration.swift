import Foundation
import Logging
import ReflectionsModel

/// Everything `reflectd serve` needs; the command fills it in, tests build it directly.
public struct ServerConfiguration: Sendable {
    /// Where the SQLite database and the generated certificate live.
    public var dataDirectory: URL
    /// A `postgres://…` address (``PostgresURL``) to keep the data in PostgreSQL; nil keeps it in SQLite in the
    /// data folder (the embedded default).
    public var database: String?
    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    /// PEM files of the operator's own certificate (chain) and key; when nil, a self-signed pair in the data
    /// directory is used, made on the first start.
    public var certificatePath: String?
    public var keyPath: String?
    /// Only `reflectd user add` creates members.
    public var inviteOnly: Bool
    public var passwordParameters: PasswordHasher.Parameters
    /// A connection that sends nothing for this long is closed (slow or stalled clients cannot pin the server).
    public var idleTimeoutSeconds: Int64
    /// The first request's head must arrive within this many seconds of connecting (see ``RequestDeadlineHandler``).
    public var headerTimeoutSeconds: Int64
    /// A request's body must end within this many seconds of its head.
    public var requestTimeoutSeconds: Int64
    /// When sessions end by themselves (idle and absolute limits).
    public var sessions: SessionPolicy
    /// The port of the metrics listener (`GET /metrics`); nil: no metrics listener. 0 picks a free port.
    public var metricsPort: Int? = nil
    /// Where the metrics listener listens: loopback unless the operator opens it up.
    public var metricsHost = "127.0.0.1"
    /// Scheduled compaction (`--compact-every`, `--keep-days`); nil: none.
    public var compaction: CompactionSchedule? = nil
    /// Limits and timing of change streams (`GET /v1/sync/events`).
    public var events: EventHub.Configuration = EventHub.Configuration()
    /// The wall clock for sessions, login throttling and writing times: the system's; tests that must not
    /// depend on how fast a loaded machine runs fix it.
    public var clock: WallClock = .system

    public init(
        dataDirectory: URL, host: String = "127.0.0.1", port: Int = 8443, certificatePath: String? = nil,
        keyPath: String? = nil, inviteOnly: Bool = false, passwordParameters: PasswordHasher.Parameters = .standard,
        idleTimeoutSeconds: Int64 = 30, database: String? = nil, sessions: SessionPolicy = SessionPolicy(),
        headerTimeoutSeconds: Int64 = 10, requestTimeoutSeconds: Int64 = 60
    ) {
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.sessions = sessions
        self.database = database
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.inviteOnly = inviteOnly
        self.passwordParameters = passwordParameters
    }

    /// Opens the configured store: PostgreSQL for a `postgres://` ``database``, otherwise the SQLite file.
    public func openStore(logger: Logger = Logger(label: "reflectd")) async throws -> any ServerStore {
        if let database {
            return try await PostgresStore(url: try PostgresURL(database), logger: logger)
        }
        return try SQLiteStore(path: databasePath)
    }

    /// The SQLite database file.
    public var databasePath: String { dataDirectory.appendingPathComponent("reflectd.sqlite").path }
    /// The generated certificate and key.
    public var generatedCertificatePath: String { dataDirectory.appendingPathComponent("tls-cert.pem").path }
    public var generatedKeyPath: String { dataDirectory.appendingPathComponent("tls-key.pem").path }
}

/// How often the server compacts, and what it keeps.
public struct CompactionSchedule: Sendable {
    public var every: Duration
    public var keepDays: Int

    public init(every: Duration, keepDays: Int) {
        self.every = every
        self.keepDays = keepDays
    }
}
