import AsyncHTTPClient
import CompressNIO
import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import ReflectionsModel

/// The client's HTTPS connection to reflectd. It trusts only what the member chose at `init` (a CA file or a
/// pinned certificate) — never "any certificate" — and gives up connecting after ``connectTimeout``.
///
/// Own one per process and always call ``shutdown()``.
public final class ServerConnection: SyncTransport {
    public static let connectTimeout: TimeAmount = .seconds(5)
    public let baseURL: String
    let http: HTTPClient
    /// The configuration of ``http``, for the change stream's own client.
    let configuration: HTTPClient.Configuration

    public init(serverURL: String, trust: ServerTrust) throws {
        baseURL = try Self.normalise(serverURL)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        switch trust {
        case .caFile(let path):
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw ClientError(.untrusted, "Cannot read the CA file \(path): \(error)")
            }
        case .pinned(_, let pem):
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: Self.connectTimeout, read: .seconds(60))
        configuration.decompression = .disabled  // done below, so that bytesReceived counts wire bytes
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.configuration = configuration
    }

    public func shutdown() async throws { try await http.shutdown() }

    /// `https://host:port` without a trailing slash; anything else is refused with a message.
    public static func normalise(_ text: String) throws -> String {
        var url = text.trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "https",
            let host = components.host, !host.isEmpty, components.path.isEmpty
        else {
            throw ClientError(
                .invalidInput, "'\(text)' is not a server address: use https://HOST:PORT (plain http is never used).")
        }
        return url
    }

    // MARK: Pinning

    /// Connects once, checks that the server's certificate has the SHA-256 `pin`, and returns that certificate
    /// as PEM, to be stored as this home's only trust root. A different certificate is refused.
    public static func fetchPinnedCertificate(serverURL: String, pin: String) async throws -> String {
        let url = try normalise(serverURL)
        let wanted = pin.lowercased().replacingOccurrences(of: ":", with: "")
        guard wanted.hasPrefix("sha256"), wanted.count == 6 + 64,
            wanted.dropFirst(6).allSatisfy({ $0.isHexDigit })
        else {
            throw ClientError(.invalidInput, "A pin looks like sha256:<64 hex digits>, as 'reflectd serve' prints it.")
        }
        let components = URLComponents(string: url)!
        let host = components.host!.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let port = components.port ?? 443
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .noHostnameVerification  // the callback below replaces chain checks
        let context = try NIOSSLContext(configuration: tls)
        let seen = NIOLockedValueBox<[UInt8]?>(nil)
        let isIP = host.contains(":") || host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(
                        context: context, serverHostname: isIP ? nil : host,
                        customVerificationCallback: { certificates, promise in
                            guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
                                promise.succeed(.failed)
                                return
                            }
                            let fingerprint =
                                "sha256" + SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
                            seen.withLockedValue { $0 = der }
                            promise.succeed(fingerprint == wanted ? .certificateVerified : .failed)
                        })
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(HandshakeWaiter())
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw ClientError(.unreachable, "Cannot reach \(url): \(describe(error)). Is reflectd running there?")
        }
        do {
            try await channel.pipeline.handler(type: HandshakeWaiter.self).flatMap { $0.done.futureResult }.get()
            try? await channel.close()
        } catch {
            try? await channel.close()
            if let der = seen.withLockedValue({ $0 }) {
                let got = "sha256:" + SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
                throw ClientError(
                    .untrusted,
                    "The server at \(url) presents the certificate \(got), not the pinned one: refusing to trust it.")
            }
            throw ClientError(.untrusted, "TLS with \(url) failed: \(describe(error)).")
        }
        guard let der = seen.withLockedValue({ $0 }) else {
            throw ClientError(.untrusted, "The server at \(url) presented no certificate.")
        }
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }

    /// Completes once the TLS handshake is done (or fails with its error).
    final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
        typealias InboundIn = NIOAny
        var done: EventLoopPromise<Void>!

        func handlerAdded(context: ChannelHandlerContext) { done = context.eventLoop.makePromise() }
        func handlerRemoved(context: ChannelHandlerContext) { done.fail(ChannelError.ioOnClosedChannel) }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event { done.succeed(()) }
            context.fireUserInboundEventTriggered(event)
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {
            done.fail(error)
            context.close(promise: nil)
        }
        func channelInactive(context: ChannelHandlerContext) {
            done.fail(ChannelError.ioOnClosedChannel)
            context.fireChannelInactive()
        }
    }

    // MARK: Endpoints

    public func register(handle: String, password: String, displayName: String?) async throws -> Member {
        try await send(
            .POST, "/v1/accounts", body: RegisterRequest(handle: handle, displayName: displayName, password: password))
    }

    public func login(handle: String, password: String) async throws -> SessionResponse {
        try await send(.POST, "/v1/sessions", body: LoginRequest(handle: handle, password: password))
    }

    /// Ends this session (`everywhere`: every session of the member, on every device).
    public func logout(token: String, everywhere: Bool = false) async throws {
        let _: Empty = try await send(
            .DELETE, everywhere ? "/v1/sessions" : "/v1/sessions/current", body: Optional<Empty>.none, token: token)
    }

    /// Changes the member's display name (`PATCH /v1/me`); returns the member as the server now has them.
    public func updateAccount(_ update: AccountUpdate, token: String) async throws -> Member {
        try await send(.PATCH, "/v1/me", body: update, token: token)
    }

    public func prompts(token: String) async throws -> [Prompt] {
        let response: PromptsResponse = try await send(.GET, "/v1/prompts", body: Optional<Empty>.none, token: token)
        return response.prompts
    }

    public func serverLog(token: String, since: Int64, limit: Int) async throws -> LogResponse {
        try await send(.GET, "/v1/log?since=\(since)&limit=\(limit)", body: Optional<Empty>.none, token: token)
    }

    public func push(_ request: PushRequest, token: String) async throws -> PushResponse {
        try await send(.POST, "/v1/sync/push", body: request, token: token)
    }

    /// The outbox's stored JSON, sent as it is (``EncodedPush``).
    ///
    /// An entry stored by another version of this program may name a field this server does not know, and the
    /// server refuses such a push whole (400, nothing applied). That batch is then sent once more the way every
    /// push went before stored text was sent as it is: decoded and encoded by this version, which carries only the
    /// fields it knows — so an old outbox never stops a device from syncing.
    public func push(_ push: EncodedPush, token: String) async throws -> PushResponse {
        do {
            return try await send(.POST, "/v1/sync/push", bodyBytes: ByteBuffer(bytes: push.jsonUTF8), token: token)
        } catch let error as ClientError
            where error.status == 400 && ["unknown_field", "invalid_body"].contains(error.serverCode ?? "")
        {
            return try await self.push(try push.request(), token: token)
        }
    }

    public func pull(
        since: Int64, limit: Int, token: String, epoch: String? = nil, fullDownload: DownloadFromZero? = nil
    ) async throws -> PullResponse {
        let known = epoch.flatMap { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) }
        return try await send(
            .GET,
            "/v1/sync/pull?since=\(since)&limit=\(limit)" + (known.map { "&epoch=\($0)" } ?? "")
                + (fullDownload.map { "&full=1" + ($0.horizon.map { "&horizon=\($0)" } ?? "") } ?? ""),
            body: Optional<Empty>.none, token: token)
    }

    /// One pull page fetched and unzipped, with only its paging fields read (benchmarks measure the server's
    /// side of a download with it, without the client's store).
    public func pullPage(since: Int64, limit: Int, token: String) async throws -> (
        count: Int, bytes: Int, nextCursor: Int64, hasMore: Bool
    ) {
        struct Paging: Decodable {
            struct Counted: Decodable {}
            var changes: [Counted]
            var nextCursor: Int64
            var hasMore: Bool
        }
        let before = bytesReceived
        let page: Paging = try await send(
            .GET, "/v1/sync/pull?since=\(since)&limit=\(limit)", body: Optional<Empty>.none, token: token)
        return (page.changes.count, bytesReceived - before, page.nextCursor, page.hasMore)
    }

    struct Empty: Codable {}

    /// Bytes received in bodies so far (for benchmarks and progress).
    public var bytesReceived: Int { received.withLockedValue { $0 } }
    private let received = NIOLockedValueBox(0)

    func send<Body: Encodable, Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, token: String? = nil
    ) async throws -> Answer {
        let bytes = try body.map { ByteBuffer(data: try JSONEncoder().encode($0)) }
        return try await send(method, path, bodyBytes: bytes, token: token)
    }

    /// Sends `bodyBytes` (JSON) and decodes the answer.
    func send<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, bodyBytes: ByteBuffer?, token: String? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let bodyBytes {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(bodyBytes)
        }
        let response: HTTPClientResponse
        let data: Data
        do {
            response = try await http.execute(request, timeout: .seconds(120))
            var buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
            received.withLockedValue { $0 += buffer.readableBytes }
            if response.headers.first(name: "Content-Encoding")?.lowercased() == "gzip" {
                buffer = try buffer.decompress(with: .gzip(), maxSize: 256 * 1024 * 1024)
            }
            data = Data(buffer: buffer)
        } catch {
            throw Self.transportError(error, url: baseURL)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            throw Self.statusError(status, body: data, withToken: token != nil)
        }
        if Answer.self == Empty.self { return Empty() as! Answer }
        do {
            return try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw ClientError(.server, "The server's answer to \(path) was not understood: \(error)", status: status)
        }
    }

    /// The error for a non-2xx answer, from its JSON error body when it has one.
    static func statusError(_ status: Int, body: Data, withToken: Bool) -> ClientError {
        let detail = try? JSONDecoder().decode(ErrorBody.self, from: body)
        if status == 401 && withToken {
            return ClientError(
                .notLoggedIn, "Your session has ended: log in again.", next: .logIn, status: status,
                serverCode: detail?.error.code)
        }
        return ClientError(
            .server, detail?.error.message ?? "The server answered \(status).", status: status,
            serverCode: detail?.error.code)
    }

    // MARK: Change stream

    /// Opens the server's change stream (`GET /v1/sync/events`) from `since`. The sequence ends when the server
    /// closes the stream (it is stopping: connect again) and throws a ``ClientError`` when the connection fails
    /// (``ClientError/Code/unreachable``), the token stops working (``ClientError/Code/notLoggedIn``, also when
    /// the server says so on the open stream) or the server refuses (``ClientError/Code/server``, 429 beyond the
    /// stream limits). Cancelling the consuming task closes the connection.
    public func changeEvents(since: Int64, token: String) -> AsyncThrowingStream<ChangeStreamEvent, any Error> {
        let (configuration, baseURL) = (configuration, baseURL)
        return AsyncThrowingStream { continuation in
            let task = Task {
                // A client of its own, shut down when the stream ends: AsyncHTTPClient keeps the connection of a
                // response body that is no longer read open, and the server would count the stream as open.
                // Its TLS close waits at most a second for the server's answer: while a response streams, the
                // server does not answer a close_notify, and the connection is closed anyway.
                var streamConfiguration = configuration
                streamConfiguration.tlsConfiguration?.shutdownTimeout = .seconds(1)
                let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: streamConfiguration)
                defer { Task { try? await http.shutdown() } }
                do {
                    var request = HTTPClientRequest(url: baseURL + "/v1/sync/events?since=\(since)")
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    request.headers.add(name: "Accept", value: "text/event-stream")
                    // The stream's deadline; the read timeout (60 s) against the 20 s heartbeats is what notices a
                    // dead connection.
                    let response = try await http.execute(request, timeout: .hours(24))
                    guard response.status == .ok else {
                        let body = try await response.body.collect(upTo: 64 * 1024)
                        var error = Self.statusError(
                            Int(response.status.code), body: Data(buffer: body), withToken: true)
                        // At most an hour: a server that asks for more (misconfigured, or hostile) does not park the loop for good.
                        error.retryAfterSeconds = response.headers.first(name: "Retry-After").flatMap { Int($0) }
                            .map { min(max($0, 0), 3600) }
                        throw error
                    }
                    var parser = ServerSentEventParser()
                    for try await chunk in response.body {
                        // Leaving the loop drops the body, which closes the connection; cancellation alone
                        // would not end it while heartbeats keep arriving.
                        try Task.checkCancellation()
                        for event in try parser.feed(chunk.readableBytesView) {
                            if let decoded = try ChangeStreamEvent(event) { continuation.yield(decoded) }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Self.transportError(error, url: baseURL))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    static func transportError(_ error: Error, url: String) -> ClientError {
        if let clientError = error as? ClientError { return clientError }
        let text = String(describing: error)
        if error is NIOSSLError || error is BoringSSLError || text.contains("CERTIFICATE") || text.contains("handshake")
        {
            return ClientError(
                .untrusted,
                "The server at \(url) is not the one this home trusts (TLS: \(describe(error))).", next: .trustAgain)
        }
        return ClientError(
            .unreachable, "The server at \(url) is not reachable; your writing is safe here and will be sent later.",
            cause: describe(error))
    }

    static func describe(_ error: Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
