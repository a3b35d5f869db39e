import Hummingbird
import Synchronization

/// What the page's open tabs are told, through `GET …/events` (Server-Sent Events): that what the page shows
/// changed (a sync brought or sent something, a form was saved in another tab), and how the sync stands.
///
/// A tab names the generation it was rendered at; any later change makes it reload (or, when the member is
/// typing, offer to). Events carry no member text at all: the tab reads the page again, through the same
/// store reads as every view. At most ``maxStreams`` streams are open at once (a shown tab holds one; a hidden tab
/// closes its own): browsers allow about six connections to one address, and streams must leave room for pages.
public final class PageEvents: Sendable {
    /// The most streams open at once (each shown tab holds one); more get 429 (that tab goes without live updates).
    public static let maxStreams = 4

    private struct State {
        var generation = 0
        var streams: [Int: AsyncStream<Void>.Continuation] = [:]
        var next = 0
    }
    private let state = Mutex(State())

    /// How many changes the page has seen since it started.
    var generation: Int { state.withLock { $0.generation } }

    /// What the page shows changed: every tab is told.
    func changed() {
        state.withLock { state in
            state.generation += 1
            for stream in state.streams.values { stream.yield() }
        }
    }

    /// Something else (the sync state) may have changed: every tab looks.
    func wake() {
        state.withLock { state in for stream in state.streams.values { stream.yield() } }
    }

    /// Wakes one stream (its heartbeat).
    func wake(_ id: Int) {
        _ = state.withLock { $0.streams[id]?.yield() }
    }

    /// A new stream's id and wakes (coalesced: a slow tab is woken once for many changes), or nil when
    /// ``maxStreams`` are open.
    func open() -> (id: Int, wakes: AsyncStream<Void>)? {
        let (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLock { state in
            guard state.streams.count < Self.maxStreams else { return nil }
            state.next += 1
            state.streams[state.next] = continuation
            return state.next
        }
        guard let id else { return nil }
        return (id, wakes)
    }

    /// Ends a stream (its tab went away, or the page stops).
    func close(_ id: Int) {
        state.withLock { $0.streams.removeValue(forKey: id) }?.finish()
    }

    /// Ends every stream (the page stops: its server must not wait for tabs that never hang up).
    func closeAll() {
        let streams = state.withLock { state in
            defer { state.streams = [:] }
            return state.streams.values
        }
        for stream in streams { stream.finish() }
    }

    /// How many streams are open.
    var openStreams: Int { state.withLock { $0.streams.count } }
}

/// Tells ``PageEvents`` after a form was saved (a POST answered 303).
struct PageChanged<Context: RequestContext>: RouterMiddleware {
    let changed: @Sendable () -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let response = try await next(request, context)
        if request.method == .post && response.status == .seeOther { changed() }
        return response
    }
}
