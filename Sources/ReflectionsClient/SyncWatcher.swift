import Foundation
import ReflectionsModel

/// Keeps a home in sync as things happen: the loop behind `reflect sync --watch`, for any front end.
///
/// It syncs once, then holds the server's change stream open and syncs again whenever the server announces
/// something this member may see, and whenever a local write is waiting (polled every ``localPoll``, so a
/// `reflect write` in another terminal is sent within about a second). When the server cannot be reached, or
/// the stream drops, it reports ``Update/offline(_:retryIn:)`` and tries again after a jittered exponential
/// backoff (1 s doubling to 60 s); writing goes on locally meanwhile. What needs the member stops it: a session
/// that ended (``ClientError/Code/notLoggedIn``) or a server certificate that is no longer the trusted one
/// (``ClientError/Code/untrusted``: retrying would not help, and must not be silent). Cancelling the consuming task stops it at once; a sync cut off half-way
/// loses nothing (see ``SyncEngine``).
public struct SyncWatcher: Sendable {
    /// What the loop reports.
    public enum Update: Sendable {
        /// A sync ran; `reason` says what started it.
        case synced(SyncSummary, reason: Reason)
        /// The change stream is open: changes now arrive as they happen.
        case live
        /// The server is out of reach (or the stream dropped); the next try is in `retryIn`.
        case offline(ClientError, retryIn: Duration)
    }

    /// Why a sync ran.
    public enum Reason: String, Sendable, Codable {
        /// On start, or after reconnecting: catching up.
        case connect
        /// The server announced changes.
        case server
        /// Local writes were waiting.
        case local
    }

    public let engine: SyncEngine
    public let connection: ServerConnection
    /// How often the local outbox is checked for new writes.
    public var localPoll: Duration = .milliseconds(500)
    /// The backoff after a failure: from `first`, doubling to `ceiling`, each wait jittered by ±20 %.
    public var firstRetry: Duration = .seconds(1)
    public var retryCeiling: Duration = .seconds(60)
    /// A connection that held this long counts as healthy: the backoff starts again from ``firstRetry``.
    public var stablePeriod: Duration = .seconds(30)
    /// Cuts a backoff short when another sync of the same home reached the server (``Home`` passes its own).
    public var nudge: SyncNudge?

    public init(engine: SyncEngine, connection: ServerConnection) {
        self.engine = engine
        self.connection = connection
    }

    /// The updates, until the consumer stops iterating (or cancels its task) or the session ends (the sequence
    /// then throws ``ClientError/Code/notLoggedIn``).
    public func updates() -> AsyncThrowingStream<Update, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await run { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Runs until cancelled (returns) or the session ends (throws).
    ///
    /// The backoff starts again from ``firstRetry`` only after a connection held for ``stablePeriod``: a server
    /// that accepts and drops at once is retried ever more slowly, not every second. A stream the server ended
    /// cleanly after a long life (streams last an hour) is reopened at once, without an `offline` report. A
    /// `Retry-After` from the server (429, 503) is waited for in full.
    public func run(_ report: @escaping @Sendable (Update) -> Void) async throws {
        var delay = firstRetry
        while !Task.isCancelled {
            let started = ContinuousClock.now
            var failure: ClientError
            do {
                try await connected(report)
                if ContinuousClock.now - started >= stablePeriod {
                    delay = firstRetry
                    continue
                }
                failure = ClientError(.unreachable, "The server closed the change stream.")
            } catch let error as ClientError where [.notLoggedIn, .notInitialized, .untrusted].contains(error.code) {
                throw error
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failure = error as? ClientError ?? ClientError(.unreachable, "\(error)")
            }
            if ContinuousClock.now - started >= stablePeriod { delay = firstRetry }
            let wait = max(jittered(delay), .seconds(failure.retryAfterSeconds ?? 0))
            report(.offline(failure, retryIn: wait))
            // A server that asked for a wait (Retry-After) gets it in full; otherwise a sync of this home that
            // reached the server ends the wait.
            if let nudge, failure.retryAfterSeconds == nil {
                await nudge.wait(upTo: wait)
                if Task.isCancelled { return }
            } else {
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    return
                }
            }
            delay = min(delay * 2, retryCeiling)
        }
    }

    /// One connected period: a catch-up sync, then syncs on server events and local writes until something fails
    /// (throws) or the stream ends (returns).
    private func connected(_ report: @escaping @Sendable (Update) -> Void) async throws {
        let (engine, connection, localPoll) = (engine, connection, localPoll)
        report(.synced(try await engine.sync(), reason: .connect))
        let (_, token) = try engine.credentials()
        let since = try engine.store.settings().cursor
        let (triggers, trigger) = AsyncStream.makeStream(of: Reason.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await event in connection.changeEvents(since: since, token: token) {
                    switch event {
                    case .connected: report(.live)
                    case .heartbeat: break
                    case .changes(let cursor):
                        if cursor > (try engine.store.settings().cursor) { trigger.yield(.server) }
                    }
                }
                trigger.finish()
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: localPoll)
                    if try engine.store.unsentCount() > 0 { trigger.yield(.local) }
                }
            }
            group.addTask {
                for await reason in triggers {
                    report(.synced(try await engine.sync(), reason: reason))
                }
            }
            // The first task to end ends the period: the stream (closed or failed) or a failed sync.
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func jittered(_ duration: Duration) -> Duration {
        duration * Double.random(in: 0.8...1.2)
    }
}
