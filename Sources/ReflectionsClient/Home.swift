import Foundation
import ReflectionsModel
import Synchronization

/// One member's device: its local store and, once needed, one connection to its server. The facade every front
/// end uses — the `reflect` command line, the page of `reflect ui`, `reflect-bench` and the tests — for setting up,
/// the account steps, syncing and the watch loop.
///
/// Reads and writes are the ``store``'s own methods (``ClientStore/write(title:body:visibility:promptID:id:)``,
/// ``ClientStore/reflections(mine:promptID:)``, …): they work offline and need no connection, so the facade hands
/// out the store rather than repeating each of them. Errors are ``ClientError``s with a code and, where the member
/// has a next step, a ``ClientError/NextStep`` that each front end turns into its own advice (the library never
/// names a command or a button).
public final class Home: Sendable {
    /// The local store: every read and write, offline.
    public let store: ClientStore
    private let state = Mutex(State.open(nil))
    /// Wakes this home's watch loops when one of its syncs reached the server.
    let nudge = SyncNudge()

    /// The connection, made on first use; after ``close()``, nothing more is made.
    private enum State {
        case open(ServerConnection?)
        case closed
    }

    public init(store: ClientStore) {
        self.store = store
    }

    /// The home in `directory` (created with mode 0700 if needed).
    public static func open(_ directory: URL, clock: WallClock = .system, durable: Bool = true) throws -> Home {
        Home(store: try ClientStore.open(home: directory, clock: clock, durable: durable))
    }

    // MARK: Setting up

    /// Trust for `serverURL` from the SHA-256 pin its operator gave: the certificate is fetched once, checked
    /// against the pin, and kept as this home's only trust root.
    public static func trust(pin: String, serverURL: String) async throws -> ServerTrust {
        let url = try ServerConnection.normalise(serverURL)
        let pem = try await ServerConnection.fetchPinnedCertificate(serverURL: url, pin: pin)
        return .pinned(fingerprint: pin.lowercased(), certificatePEM: pem)
    }

    /// Sets the home up for a server it trusts as `trust` (a home is set up once; see
    /// ``ClientStore/initialize(serverURL:trust:)``).
    public func setUp(serverURL: String, trust: ServerTrust, deviceName: String? = nil) throws {
        try store.initialize(serverURL: try ServerConnection.normalise(serverURL), trust: trust)
        if let deviceName { try store.setDeviceName(deviceName) }
    }

    /// The connection to this home's server, made on first use and shared until ``close()``.
    public func connection() throws -> ServerConnection {
        let settings = try store.settings()
        return try state.withLock { state in
            switch state {
            case .closed:
                throw ClientError(.notAllowed, "This home was closed.")
            case .open(let made?):
                return made
            case .open(nil):
                guard let url = settings.serverURL, let trust = settings.trust else {
                    throw ClientError(.notInitialized, "This home is not set up for a server yet.", next: .setUp)
                }
                let made = try ServerConnection(serverURL: url, trust: trust)
                state = .open(made)
                return made
            }
        }
    }

    // MARK: The account

    /// A home holds one member's writing: `handle` (checked and normalised) if this home is theirs or nobody's
    /// yet, else `wrong_member` — before any account or session is made on the server (and before a front end
    /// asks for a password).
    @discardableResult
    public func refuseOtherMember(_ handle: String) throws -> String {
        let checked: String
        do {
            checked = try Validation.handle(handle)
        } catch {
            throw ClientError.invalid(error)
        }
        try refuseOther(checked)
        return checked
    }

    /// The rule itself, for a handle already in its normal (lower-case) form.
    private func refuseOther(_ handle: String) throws {
        if let owner = try store.settings().member, owner.handle != handle {
            throw ClientError(
                .wrongMember,
                "This home belongs to '\(owner.handle)'; '\(handle)' needs a home of its own. Nothing was sent.",
                next: .useAnotherHome)
        }
    }

    /// Creates an account on the server and logs in with it (see ``refuseOtherMember(_:)``).
    @discardableResult
    public func register(handle: String, password: String, displayName: String? = nil) async throws -> Member {
        let checked = try refuseOtherMember(handle)
        _ = try await connection().register(handle: checked, password: password, displayName: displayName)
        return try await login(handle: checked, password: password)
    }

    /// Logs in and keeps the session token in the store (readable only by this user); see
    /// ``refuseOtherMember(_:)``.
    @discardableResult
    public func login(handle: String, password: String) async throws -> Member {
        // Not validated here: the server answers a handle that cannot exist as it answers a wrong password.
        try refuseOther(handle.lowercased())
        let session = try await connection().login(handle: handle, password: password)
        try store.saveSession(token: session.token, member: session.member)
        return session.member
    }

    /// What a logout did.
    public struct Logout: Sendable, Codable, Hashable {
        /// Whether the server ended the session (false when it could not be reached: the token is forgotten here,
        /// but stays valid there until it expires).
        public var serverSessionEnded: Bool
        /// Local changes not yet synced: they stay, and are sent after the next login.
        public var pending: Int
    }

    /// Ends the session on the server (`everywhere`: every session of this member, on all devices) and forgets it
    /// here. The local writing stays. An unreachable server does not stop the logout here; the answer says so.
    @discardableResult
    public func logout(everywhere: Bool = false) async throws -> Logout {
        var ended = true
        if let token = try store.settings().token {
            do {
                try await connection().logout(token: token, everywhere: everywhere)
            } catch let error as ClientError where error.code == .notLoggedIn {
                // The server no longer knew the token: the session had ended there already.
            } catch let error as ClientError where error.code == .unreachable {
                ended = false
            }
        }
        let pending = try store.pendingCount()
        try store.clearSession()
        return Logout(serverSessionEnded: ended, pending: pending)
    }

    /// Changes the member's display name on the server, and here.
    @discardableResult
    public func updateDisplayName(_ displayName: String) async throws -> Member {
        let member = try await connection().updateAccount(
            AccountUpdate(displayName: displayName), token: try token())
        try store.updateMember(member)
        return member
    }

    /// The session token, or `not_logged_in`.
    public func token() throws -> String {
        guard let token = try store.settings().token else {
            throw ClientError(.notLoggedIn, "Not logged in (your writing stays here).", next: .logIn)
        }
        return token
    }

    /// The server's prompts (the six defaults when there is no session or no network: they are the same).
    public func prompts() async -> [Prompt] {
        guard let token = try? store.settings().token, let connection = try? connection(),
            let fetched = try? await connection.prompts(token: token)
        else { return Prompt.defaults }
        return fetched
    }

    // MARK: Syncing

    /// The sync engine of this home, over its connection.
    public func engine() throws -> SyncEngine {
        SyncEngine(store: store, transport: try connection())
    }

    /// One sync: push what waits, then pull what is new (see ``SyncEngine/sync(progress:)``).
    @discardableResult
    public func sync(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        let summary = try await engine().sync(progress: progress)
        // The server answered: a watch loop of this home waiting out its backoff reconnects now.
        nudge.nudge()
        return summary
    }

    /// The real-time loop: syncs whenever the server says something changed, or something was written here. A
    /// ``sync(progress:)`` of this home that reaches the server cuts its backoff short.
    public func watcher() throws -> SyncWatcher {
        var watcher = SyncWatcher(engine: try engine(), connection: try connection())
        watcher.nudge = nudge
        return watcher
    }

    /// Shuts the connection down (if one was made) and closes the store; a second call does nothing. Stop the
    /// watchers and syncs started from this home first (cancel their tasks): they use both.
    public func close() async throws {
        let (connection, wasOpen) = state.withLock { state -> (ServerConnection?, Bool) in
            defer { state = .closed }
            if case .open(let made) = state { return (made, true) }
            return (nil, false)
        }
        guard wasOpen else { return }
        defer { try? store.close() }
        try await connection?.shutdown()
    }
}
