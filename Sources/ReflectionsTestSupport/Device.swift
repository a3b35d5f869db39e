import Foundation
import ReflectionsClient
import ReflectionsModel

/// A client home with its store and connection, as one device of one member: the library's ``Home`` facade
/// in a temporary folder, set up for a live server.
public final class Device: Sendable {
    public let home: URL
    /// The facade (account steps, sync, watch); ``store`` and ``connection`` are its own.
    public let client: Home
    public let connection: ServerConnection
    public var store: ClientStore { client.store }

    public init(home: URL, client: Home) throws {
        self.home = home
        self.client = client
        self.connection = try client.connection()
    }

    /// The password every test member has.
    public static let password = "a long enough password"

    /// A new home set up for `server` (pinning its certificate) and logged in as `handle`.
    public static func make(
        _ server: LiveServer, handle: String, register: Bool, clock: WallClock = .system
    ) async throws -> Device {
        let directory = TemporaryDirectory.make(prefix: "reflect-home")
        let client = try Home.open(directory, clock: clock)
        try client.setUp(
            serverURL: server.baseURL, trust: try await Home.trust(pin: server.fingerprint, serverURL: server.baseURL))
        do {
            if register {
                try await client.register(handle: handle, password: password)
            } else {
                try await client.login(handle: handle, password: password)
            }
            return try Device(home: directory, client: client)
        } catch {
            try? await client.close()
            throw error
        }
    }

    @discardableResult
    public func sync(_ transport: (any SyncTransport)? = nil) async throws -> SyncSummary {
        guard let transport else { return try await client.sync() }
        return try await SyncEngine(store: store, transport: transport).sync()
    }

    public func close() async throws {
        try await client.close()
    }

    /// The body of a reflection as this device shows it.
    public func body(_ id: UUID) throws -> String { try store.reflection(id: id).reflection.body }

    /// Logs in again (after a restore ended every session).
    public func login(_ handle: String) async throws {
        try await client.login(handle: handle, password: Self.password)
    }

    /// Every live record this device holds (reflections and their comments): id → text.
    public func texts() throws -> [UUID: String] {
        var texts: [UUID: String] = [:]
        for listed in try store.reflections() where !listed.reflection.deleted {
            let local = try store.reflection(id: listed.reflection.id)
            texts[local.reflection.id] = local.reflection.body
            for comment in local.comments where !comment.comment.deleted {
                texts[comment.comment.id] = comment.comment.body
            }
        }
        return texts
    }
}
