import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReflectionsModel
import ServiceLifecycle

/// `GET /v1/sync/events`: a Server-Sent Events stream that tells a member when there is something to pull.
///
/// ## What is sent
/// - `: connected` and `retry: 2000` at once;
/// - `id: N`, `event: changes`, `data: {"cursor":N}` when a change the caller may see has committed after their
///   cursor. `N` is the sequence number of such a change (the newest of the first page that has any) — a number
///   the caller's own pull shows them, never the log's head or the place of a change they may not see — and never
///   record content; the client pulls as usual;
/// - `: heartbeat` every ``Limits/eventHeartbeatSeconds`` seconds when nothing else was sent;
/// - `event: unauthorized` (then the stream closes) once the token no longer works: logged out, logged out
///   everywhere, the member disabled, or the session expired.
///
/// ## The privacy rule
/// Whether there is anything to tell is decided by the store's pull for the caller from the stream's cursor —
/// the same ``Access`` rule as every other read (``EventCheck``). A wake caused by another member's private
/// writing finds nothing and sends nothing, so the stream's timing tells nobody anything of it.
///
/// ## Resuming
/// `Last-Event-ID` (sent by browsers on reconnect) or `?since=` names the cursor to start from (`Last-Event-ID`
/// wins when both are given); the first check runs at once, so whatever committed while the client was away is
/// announced without waiting for the next change.
///
/// ## Bounds
/// At most ``EventHub/Configuration/maxStreamsPerMember`` streams per member and
/// ``EventHub/Configuration/maxStreams`` per server (429 with `Retry-After` beyond). Events are a few bytes and
/// wakes are coalesced, so nothing queues up for a slow reader; one that has not taken an event within
/// ``EventHub/Configuration/writeTimeout`` has its connection closed. A graceful stop ends every stream.
extension SyncAPI {
    func changeStream(_ request: Request, context: ReflectContext) async throws -> Response {
        let member = try await authenticate(request)
        guard let token = bearerToken(request) else { throw ServerError.unauthorized }
        let since = try eventCursor(request)
        try events.checkRoom(for: member.id)
        let (store, hub, clock, sessions, channel) = (store, events, clock, sessions, context.channel)
        let tokenHash = Tokens.hash(token)
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var writer = EventWriter(writer: writer, channel: channel, timeout: hub.configuration.writeTimeout)
                let subscription: EventHub.Subscription
                do {
                    subscription = try hub.open(memberID: member.id)
                } catch let error as ServerError {
                    // Over a limit after all (another stream opened meanwhile): say so and end.
                    try await writer.send(event: "error", data: ErrorBody(code: error.code, message: error.message))
                    try await writer.finish()
                    return
                }
                defer { hub.close(subscription) }
                // Writes to a connection the reader closed do not fail here (they are queued and dropped), so the
                // stream ends when the connection does.
                channel.closeFuture.whenComplete { _ in hub.close(subscription) }
                try await writer.send(comment: "connected", retryMillis: 2000)
                let configuration = hub.configuration
                let opened = ContinuousClock.now
                var check = EventCheck(cursor: since)
                try await withGracefulShutdownHandler {
                    for await _ in subscription.wakes {
                        guard
                            let member = try await store.member(
                                tokenHash: tokenHash, now: clock.now(), policy: sessions)
                        else {
                            try await writer.send(event: "unauthorized", data: ErrorBody(ServerError.unauthorized))
                            break
                        }
                        // A stream lives an hour at most, then ends cleanly and the client reconnects: a stolen or
                        // forgotten stream does not hold its place for ever.
                        if ContinuousClock.now - opened >= configuration.maxLifetime { break }
                        let found: Int64?
                        do {
                            found = try await check.run(store: store, member: member)
                        } catch let error as ServerError where error.code == ServerError.cursorExpired.code {
                            // The cursor is below the compaction horizon: the client's next sync resyncs.
                            try await writer.send(event: "error", data: ErrorBody(error))
                            break
                        }
                        if let found {
                            try await writer.send(event: "changes", id: found, data: EventCursor(cursor: found))
                        } else if writer.quietFor >= configuration.heartbeat * 0.75 {
                            // By time, not by the kind of wake: a stream woken often must still send heartbeats.
                            try await writer.send(comment: "heartbeat")
                        }
                        // At most one check per stream every `minimumCheckInterval`; wakes meanwhile merge into one.
                        try? await Task.sleep(for: configuration.minimumCheckInterval)
                    }
                } onGracefulShutdown: {
                    hub.close(subscription)
                }
                try await writer.finish()
            })
    }

    /// The cursor a stream starts from: `Last-Event-ID`, else `?since=`, else 0.
    func eventCursor(_ request: Request) throws -> Int64 {
        if let header = request.headers[HTTPField.Name("Last-Event-ID")!] {
            guard let value = Int64(header.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw ServerError.badRequest("invalid_parameter", "'Last-Event-ID' must be a whole number, 0 or more.")
            }
            return value
        }
        return try integerParameter(request, "since", default: 0, range: 0...Int64.max)
    }
}

extension ErrorBody {
    init(_ error: ServerError) {
        self.init(code: error.code, message: error.message)
    }
}

/// Whether anything a member may see committed after a stream's cursor, by the store's pull (the one privacy rule).
struct EventCheck {
    /// Where the next check starts: past everything already announced or found invisible.
    var cursor: Int64
    /// The log's head at the last check that found nothing: while it has not moved, there is nothing to look at.
    var quietHead: Int64 = -1

    /// Pages through the changes after ``cursor`` (skipping pages with nothing visible) and returns the sequence
    /// number of the newest visible change of the first page that has any — a number the member's own pull
    /// shows them anyway, never the head or the position of a change they may not see.
    mutating func run(store: any ServerStore, member: Member) async throws -> Int64? {
        let head = try await store.head()
        if head == quietHead { return nil }
        while true {
            let page = try await store.pull(for: member, since: cursor, limit: Limits.pullDefaultLimit)
            if let newest = page.changes.last?.sequence {
                // The client pulls everything after this event; the stream looks again only past the head read
                // before this page (every later commit wakes it again).
                cursor = max(newest, head)
                return newest
            }
            cursor = page.nextCursor
            if !page.hasMore {
                quietHead = head
                return nil
            }
        }
    }
}

/// Writes Server-Sent Events; closes the connection of a reader that has not taken a write within `timeout`.
struct EventWriter {
    var writer: any ResponseBodyWriter
    let channel: any Channel
    let timeout: Duration
    private var lastWrite = ContinuousClock.now

    init(writer: any ResponseBodyWriter, channel: any Channel, timeout: Duration) {
        self.writer = writer
        self.channel = channel
        self.timeout = timeout
    }

    /// How long since the last write.
    var quietFor: Duration { ContinuousClock.now - lastWrite }

    mutating func send(comment: String, retryMillis: Int? = nil) async throws {
        var text = ": \(comment)\n"
        if let retryMillis { text += "retry: \(retryMillis)\n" }
        try await write(text + "\n")
    }

    mutating func send(event: String, id: Int64? = nil, data: some Encodable) async throws {
        var text = ""
        if let id { text += "id: \(id)\n" }
        text += "event: \(event)\n"
        text += "data: \(String(decoding: try JSONEncoder().encode(data), as: UTF8.self))\n\n"
        try await write(text)
    }

    mutating func finish() async throws {
        try await writer.finish(nil)
    }

    private mutating func write(_ text: String) async throws {
        let channel = channel
        let deadline = channel.eventLoop.scheduleTask(
            in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)
        ) {
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        try await writer.write(ByteBuffer(string: text))
    }
}
