import Foundation
import ReflectionsModel
import Synchronization

/// The open change streams of one server (`GET /v1/sync/events`), and the wake-ups that make them look again.
///
/// A wake says only "something may have changed": every woken stream re-checks its token and asks the store's
/// pull — the one privacy rule — whether anything its member may see lies after its cursor. So the hub can wake
/// too many streams (every push wakes every stream) but never tells anyone anything; a missed wake is made up by
/// the next heartbeat. Wakes are coalesced: a stream still busy with one check keeps at most one more pending, so
/// a burst of pushes costs each stream at most two checks, and nothing is queued without bound.
public final class EventHub: Sendable {
    /// Limits on open streams; `reflectd serve --max-streams` and `--max-streams-per-member`.
    public struct Configuration: Sendable {
        public var maxStreams: Int
        public var maxStreamsPerMember: Int
        public var heartbeat: Duration
        public var writeTimeout: Duration
        /// A stream ends cleanly after this long (the client reconnects): no stream holds its place for ever.
        public var maxLifetime: Duration
        /// A stream checks at most once per this interval, however often it is woken.
        public var minimumCheckInterval: Duration

        public init(
            maxStreams: Int = Limits.eventStreamsPerServerDefault,
            maxStreamsPerMember: Int = Limits.eventStreamsPerMemberDefault,
            heartbeat: Duration = .seconds(Limits.eventHeartbeatSeconds),
            writeTimeout: Duration = .seconds(Limits.eventWriteTimeoutSeconds),
            maxLifetime: Duration = .seconds(Limits.eventStreamMaxLifetimeSeconds),
            minimumCheckInterval: Duration = .milliseconds(50)
        ) {
            self.maxLifetime = maxLifetime
            self.minimumCheckInterval = minimumCheckInterval
            self.maxStreams = maxStreams
            self.maxStreamsPerMember = maxStreamsPerMember
            self.heartbeat = heartbeat
            self.writeTimeout = writeTimeout
        }
    }

    /// One open stream's place in the hub.
    public struct Subscription: Sendable {
        let id: UUID
        let memberID: UUID
        /// The wakes, one kept when the stream is busy. A wake carries nothing: every one means "look again", and
        /// the stream decides by the time since its last write whether a heartbeat is due.
        public let wakes: AsyncStream<Void>
    }

    private struct Entry {
        var memberID: UUID
        var continuation: AsyncStream<Void>.Continuation
    }

    private struct State {
        var streams: [UUID: Entry] = [:]
        var closed = false
    }

    public let configuration: Configuration
    private let state = Mutex(State())

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The number of open streams (for tests and metrics).
    public var openStreams: Int { state.withLock { $0.streams.count } }

    /// Whether `memberID` may open one more stream now; throws the 429 a client should see.
    func checkRoom(for memberID: UUID) throws {
        try state.withLock { state in try Self.checkRoom(state, memberID, configuration) }
    }

    /// Registers a stream; throws 429 over a limit and 503 once the server is stopping.
    func open(memberID: UUID) throws -> Subscription {
        let (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        try state.withLock { state in
            try Self.checkRoom(state, memberID, configuration)
            state.streams[id] = Entry(memberID: memberID, continuation: continuation)
        }
        // The first check runs at once: it catches up from the cursor the client named.
        continuation.yield()
        return Subscription(id: id, memberID: memberID, wakes: wakes)
    }

    /// Removes a stream (its handler is done with it).
    func close(_ subscription: Subscription) {
        let entry = state.withLock { $0.streams.removeValue(forKey: subscription.id) }
        entry?.continuation.finish()
    }

    /// Wakes every stream (after a commit here, or a sign of one elsewhere).
    public func notify() {
        for continuation in state.withLock({ $0.streams.values.map(\.continuation) }) {
            continuation.yield()
        }
    }

    /// Ends every stream and refuses new ones: the server is stopping.
    public func closeAll() {
        let continuations = state.withLock { state in
            state.closed = true
            return state.streams.values.map(\.continuation)
        }
        for continuation in continuations { continuation.finish() }
    }

    /// Sends heartbeats until cancelled.
    public func runHeartbeat() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.heartbeat)
            } catch {
                return
            }
            notify()
        }
    }

    private static func checkRoom(_ state: State, _ memberID: UUID, _ configuration: Configuration) throws {
        if state.closed {
            throw ServerError(
                .serviceUnavailable, "stopping", "The server is stopping: connect again in a moment.",
                headers: [.retryAfter: "5"])
        }
        if state.streams.count >= configuration.maxStreams {
            throw ServerError(
                .tooManyRequests, "too_many_streams",
                "This server holds as many change streams as it may (\(configuration.maxStreams)): try again later.",
                headers: [.retryAfter: "30"])
        }
        let mine = state.streams.values.lazy.filter { $0.memberID == memberID }.count
        if mine >= configuration.maxStreamsPerMember {
            throw ServerError(
                .tooManyRequests, "too_many_streams",
                "You have \(mine) change streams open on this server, the most allowed: close one first.",
                headers: [.retryAfter: "30"])
        }
    }
}
