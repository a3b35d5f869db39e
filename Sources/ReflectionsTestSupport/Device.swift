import Foundation
import ReflectionsClient
import ReflectionsModel

/// A client home with its store and connection, as one device of one member.
public final class Device: Sendable {
    public let home: URL
    public let store: ClientStore
    public let connection: ServerConnection

    public init(home: URL, store: ClientStore, connection: ServerConnection) {
        self.home = home
        self.store = store
        self.connection = connection
    }

    /// A new home set up for `server` (pinning its certificate) and logged in as `handle`.
    public static func make(_ server: LiveServer, handle: String, register: Bool) async throws -> Device {
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
    public func sync(_ transport: (any SyncTransport)? = nil) async throws -> SyncSummary {
        try await SyncEngine(store: store, transport: transport ?? connection).sync()
    }

    public func close() async throws {
        try await connection.shutdown()
        try store.close()
    }

    /// The body of a reflection as this device shows it.
    public func body(_ id: UUID) throws -> String { try store.reflection(id: id).reflection.body }

    /// Logs in again (after a restore ended every session).
    public func login(_ handle: String) async throws {
        let session = try await connection.login(handle: handle, password: "a long enough password")
        try store.saveSession(token: session.token, member: session.member)
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
