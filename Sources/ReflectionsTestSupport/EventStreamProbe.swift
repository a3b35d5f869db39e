import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ReflectionsModel
import Synchronization

/// An open `GET /v1/sync/events` as a test sees it: the answer's status and headers, then every event in
/// arrival order (heartbeats and other comment-only blocks included), and whether the server ended the stream.
public final class EventStreamProbe: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    /// The body of a refused stream (status other than 200).
    public let errorBody: Data
    private let state = Mutex<(events: [ServerSentEvent], ended: Bool, error: String?)>(([], false, nil))
    private let reader = Mutex<Task<Void, Never>?>(nil)

    init(status: Int, headers: HTTPHeaders, errorBody: Data) {
        self.status = status
        self.headers = headers
        self.errorBody = errorBody
    }

    /// The `error.code` of a refused stream.
    public var errorCode: String? { (try? JSONDecoder().decode(ErrorBody.self, from: errorBody))?.error.code }

    /// Whether the server closed the stream (or the connection ended).
    public var ended: Bool { state.withLock { $0.ended } }

    /// Why reading ended, if it failed.
    public var debugError: String? { state.withLock { $0.error } }

    /// Every event so far.
    public var events: [ServerSentEvent] { state.withLock { $0.events } }

    /// Waits for the next event named `name` that arrives after the first `after` events; nil if none within
    /// `timeout` (or the stream ended first).
    public func next(_ name: String, after: Int = 0, within timeout: Duration = .seconds(10)) async
        -> (index: Int, event: ServerSentEvent)?
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (events, ended) = state.withLock { ($0.events, $0.ended) }
            if let index = events.indices.first(where: { $0 >= after && events[$0].event == name }) {
                return (index, events[index])
            }
            if ended { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Waits until the stream ends; false if it is still open after `timeout`.
    public func waitUntilEnded(within timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if ended { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return ended
    }

    /// Closes the connection from the client's side.
    public func close() async {
        let task = reader.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    func read(_ body: HTTPClientResponse.Body, client: HTTPClient) {
        let task = Task { [self] in
            var parser = ServerSentEventParser()
            do {
                for try await chunk in body {
                    // The body sequence does not end on cancellation by itself while heartbeats keep coming.
                    try Task.checkCancellation()
                    let events = try parser.feed(chunk.readableBytesView)
                    self.state.withLock { $0.events.append(contentsOf: events) }
                }
            } catch {
                self.state.withLock { $0.error = String(describing: error) }
            }
            try? await client.shutdown()
            self.state.withLock { $0.ended = true }
        }
        reader.withLock { $0 = task }
    }
}

extension TestHTTPClient {
    /// Opens a change stream; `query` is appended to the path as it is (such as `?since=5`).
    public func openEvents(token: String?, query: String = "", headers: [(String, String)] = []) async throws
        -> EventStreamProbe
    {
        // A client of its own, so that closing the probe closes the connection (see ServerConnection.changeEvents).
        var streamConfiguration = configuration
        streamConfiguration.tlsConfiguration?.shutdownTimeout = .milliseconds(100)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: streamConfiguration)
        var request = HTTPClientRequest(url: baseURL + "/v1/sync/events" + query)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(600))
        } catch {
            try? await http.shutdown()
            throw error
        }
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1024 * 1024)
            try await http.shutdown()
            return EventStreamProbe(
                status: Int(response.status.code), headers: response.headers, errorBody: Data(buffer: body))
        }
        let probe = EventStreamProbe(status: 200, headers: response.headers, errorBody: Data())
        probe.read(response.body, client: http)
        return probe
    }
}
