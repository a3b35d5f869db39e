import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import ReflectionsModel

/// A raw HTTPS client for server tests: sends exactly the bytes it is given, trusting only the test server's
/// certificate. Always ``shutdown()`` it (or use ``with(_:_:)``).
public final class TestHTTPClient: Sendable {
    public let http: HTTPClient
    public let baseURL: String
    let configuration: HTTPClient.Configuration

    /// One answer: status, headers and body.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data

        /// The body decoded as `T`.
        public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: body) }
        /// The `error.code` of an error body, if it is one.
        public var errorCode: String? { (try? JSONDecoder().decode(ErrorBody.self, from: body))?.error.code }
    }

    public convenience init(server: LiveServer, tlsOverride: TLSConfiguration? = nil) throws {
        try self.init(baseURL: server.baseURL, certificatePEM: server.certificatePEM, tlsOverride: tlsOverride)
    }

    /// A client of the server at `baseURL` that trusts only `certificatePEM`.
    public init(baseURL: String, certificatePEM: String, tlsOverride: TLSConfiguration? = nil) throws {
        var tls = tlsOverride ?? TLSConfiguration.makeClientConfiguration()
        if tlsOverride == nil {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.configuration = configuration
        self.baseURL = baseURL
    }

    public func shutdown() async throws { try await http.shutdown() }

    /// Runs `body` with a client for `server`, shutting it down afterwards.
    public static func with<T>(_ server: LiveServer, _ body: (TestHTTPClient) async throws -> T) async throws -> T {
        let client = try TestHTTPClient(server: server)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Sends a request with raw body bytes.
    public func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, token: String? = nil, headers: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: buffer))
    }

    /// Sends `value` as JSON.
    public func send<T: Encodable>(_ method: HTTPMethod, _ path: String, json value: T, token: String? = nil)
        async throws -> Answer
    {
        try await send(method, path, body: try JSONEncoder().encode(value), token: token)
    }

    /// Registers and logs in a member; returns the session.
    public func member(_ handle: String, password: String = "a long enough password") async throws -> SessionResponse {
        let registered = try await send(
            .POST, "/v1/accounts", json: RegisterRequest(handle: handle, password: password))
        guard registered.status == 201 else { throw TestFailure("register \(handle): \(registered.status)") }
        let login = try await send(.POST, "/v1/sessions", json: LoginRequest(handle: handle, password: password))
        guard login.status == 201 else { throw TestFailure("login \(handle): \(login.status)") }
        return try login.decode(SessionResponse.self)
    }

    /// Pushes mutations and returns the results (throws unless 200).
    public func push(_ mutations: [Mutation], client: UUID, token: String) async throws -> [MutationResult] {
        let answer = try await send(
            .POST, "/v1/sync/push", json: PushRequest(clientID: client, mutations: mutations), token: token)
        guard answer.status == 200 else {
            throw TestFailure("push: \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        }
        return try answer.decode(PushResponse.self).results
    }

    /// Pulls every page after `since`.
    public func pullAll(token: String, since: Int64 = 0, limit: Int = 1000) async throws -> (
        changes: [Change], cursor: Int64
    ) {
        var cursor = since
        var changes: [Change] = []
        while true {
            let answer = try await send(.GET, "/v1/sync/pull?since=\(cursor)&limit=\(limit)", token: token)
            guard answer.status == 200 else { throw TestFailure("pull: \(answer.status)") }
            let page = try answer.decode(PullResponse.self)
            changes += page.changes
            cursor = page.nextCursor
            if !page.hasMore { return (changes, cursor) }
        }
    }
}

/// A failure inside a test helper.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
