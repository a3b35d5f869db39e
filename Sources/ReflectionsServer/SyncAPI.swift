import CompressNIO
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat
import ReflectionsModel

/// The HTTP endpoints of reflectd, generic over the storage behind them.
///
/// Body limits: a push is at most ``Limits/pushMaxBytes`` (4 MiB), any other body
/// ``Limits/otherRequestMaxBytes`` (64 KiB); a larger body is refused with 413 before it is read to the end
/// (at once when `Content-Length` says so).
public struct SyncAPI: Sendable {
    let store: any ServerStore
    let hasher: PasswordHasher
    let inviteOnly: Bool
    let clock: WallClock
    let sessions: SessionPolicy
    /// The open change streams; woken after every commit made through this API.
    public let events: EventHub
    /// Where the figures of `GET /metrics` are counted (nil: not counted).
    public let metrics: ServerMetrics?

    public init(
        store: any ServerStore, hasher: PasswordHasher, inviteOnly: Bool, clock: WallClock = .system,
        sessions: SessionPolicy = SessionPolicy(), events: EventHub = EventHub(), metrics: ServerMetrics? = nil
    ) {
        self.events = events
        self.metrics = metrics
        self.store = store
        self.hasher = hasher
        self.inviteOnly = inviteOnly
        self.clock = clock
        self.sessions = sessions
    }

    /// Adds every route to `router`.
    public func addRoutes(to router: Router<ReflectContext>) {
        router.get("healthz") { _, _ in try json(["status": "ok"]) }
        let v1 = router.group("v1")
        v1.post("accounts") { request, _ in try await register(request) }
        v1.post("sessions") { request, context in try await login(request, source: context.sourceAddress) }
        v1.delete("sessions/current") { request, _ in try await logout(request) }
        v1.delete("sessions") { request, _ in try await logoutEverywhere(request) }
        v1.get("me") { request, _ in try json(try await authenticate(request)) }
        v1.patch("me") { request, _ in try await updateAccount(request) }
        v1.get("prompts") { request, _ in
            _ = try await authenticate(request)
            return try json(PromptsResponse(prompts: try await store.prompts()))
        }
        v1.post("sync/push") { request, _ in try await push(request) }
        v1.get("sync/pull") { request, _ in try await pull(request) }
        v1.get("sync/events") { request, context in try await changeStream(request, context: context) }
        v1.get("log") { request, _ in try await log(request) }
    }

    // MARK: Accounts

    func register(_ request: Request) async throws -> Response {
        if inviteOnly {
            throw ServerError(
                .forbidden, "invite_only",
                "This server is invite-only: an operator adds members with 'reflectd user add'.")
        }
        let body = try StrictJSON.decode(RegisterRequest.self, from: try await readBody(request))
        let member = try await Self.makeMember(body, hasher: hasher, store: store, now: clock.now())
        return try json(member, status: .created)
    }

    /// Validates a registration, hashes the password and stores the new member.
    public static func makeMember(
        _ body: RegisterRequest, role: Member.Role = .member, hasher: PasswordHasher, store: any ServerStore, now: Int64
    ) async throws -> Member {
        let handle: String
        let displayName: String
        let password: String
        do {
            handle = try Validation.handle(body.handle)
            displayName = try Validation.displayName(body.displayName ?? handle)
            password = try Validation.password(body.password)
        } catch {
            throw ServerError.validation(error)
        }
        let member = Member(id: UUID(), handle: handle, displayName: displayName, role: role)
        try await store.createMember(member, passwordHash: try await hasher.hash(password), now: now)
        return member
    }

    func login(_ request: Request, source: String) async throws -> Response {
        let body = try StrictJSON.decode(LoginRequest.self, from: try await readBody(request))
        // A handle that cannot exist is refused before anything is stored or hashed (it tells nothing: the rule
        // for handles is public).
        guard let handle = try? Validation.handle(body.handle) else {
            metrics?.failedLogin()
            throw ServerError.badCredentials
        }
        let now = clock.now()
        let wait = try await store.beginLoginAttempt(handle: handle, source: source, now: now)
        if wait > 0 {
            metrics?.failedLogin()
            let seconds = (wait + 999) / 1000
            throw ServerError(
                .tooManyRequests, "too_many_attempts",
                "Too many failed logins for this handle from this address: try again in \(seconds) s.",
                headers: [.retryAfter: "\(seconds)"])
        }
        let credentials = try await store.credentials(handle: handle)
        // Hash even for an unknown handle, at the same cost, so that timing does not tell which handles exist.
        let p = hasher.parameters
        let stored =
            credentials?.passwordHash
            ?? "scrypt$\(p.rounds)$\(p.blockSize)$\(p.parallelism)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let matches = try await hasher.verify(body.password.precomposedStringWithCanonicalMapping, against: stored)
        guard let credentials, matches, !credentials.disabled else {
            metrics?.failedLogin()
            throw ServerError.badCredentials
        }
        try await store.clearLoginAttempts(handle: handle, source: source)
        let token = Tokens.make()
        try await store.createSession(tokenHash: Tokens.hash(token), memberID: credentials.member.id, now: now)
        return try json(SessionResponse(token: token, member: credentials.member), status: .created)
    }

    func logout(_ request: Request) async throws -> Response {
        _ = try await authenticate(request)
        guard let token = bearerToken(request) else { throw ServerError.unauthorized }
        try await store.deleteSession(tokenHash: Tokens.hash(token))
        events.notify()
        return Response(status: .noContent)
    }

    /// Ends every session of the caller: for a lost device or a token that may have leaked.
    func logoutEverywhere(_ request: Request) async throws -> Response {
        let member = try await authenticate(request)
        _ = try await store.revokeSessions(handle: member.handle)
        events.notify()
        return Response(status: .noContent)
    }

    // MARK: Sync

    func push(_ request: Request) async throws -> Response {
        let member = try await authenticate(request)
        var body = try StrictJSON.decode(
            PushRequest.self, from: try await readBody(request, limit: Limits.pushMaxBytes))
        guard body.protocolVersion == SyncProtocol.version else {
            throw ServerError.badRequest(
                "unsupported_protocol",
                "This server speaks sync protocol \(SyncProtocol.version), not \(body.protocolVersion).")
        }
        guard body.mutations.count <= Limits.pushMaxMutations else {
            throw ServerError(
                .contentTooLarge, "batch_too_large",
                "A push carries at most \(Limits.pushMaxMutations) mutations; this one has \(body.mutations.count).")
        }
        if let name = body.deviceName {
            do {
                body.deviceName = try Validation.deviceName(name)
            } catch {
                throw ServerError.validation(error)
            }
        }
        // A stamp's node goes into every engine as text: one no client makes (a NUL, say) is refused with the
        // whole push (400), before anything is written, rather than failing a statement half-way.
        do {
            for mutation in body.mutations { _ = try Validation.hlcNode(mutation.hlc.node) }
        } catch {
            throw ServerError.validation(error)
        }
        let ids = Set(body.mutations.map(\.id))
        guard ids.count == body.mutations.count else {
            throw ServerError.badRequest("duplicate_mutation", "The push names one mutation id twice.")
        }
        let response = try await store.push(body, by: member, now: clock.now())
        events.notify()
        metrics?.mutations(response.results)
        return try json(response)
    }

    /// `PATCH /v1/me`: a member changes their own display name (nothing else, and nobody else's).
    func updateAccount(_ request: Request) async throws -> Response {
        let member = try await authenticate(request)
        let body = try StrictJSON.decode(AccountUpdate.self, from: try await readBody(request))
        guard let raw = body.displayName else { return try json(member) }
        let displayName: String
        do {
            displayName = try Validation.displayName(raw)
        } catch {
            throw ServerError.validation(error)
        }
        let renamed = try await store.setDisplayName(memberID: member.id, displayName: displayName, now: clock.now())
        events.notify()
        return try json(renamed)
    }

    func pull(_ request: Request) async throws -> Response {
        let member = try await authenticate(request)
        let since = try integerParameter(request, "since", default: 0, range: 0...Int64.max)
        let limit = try integerParameter(
            request, "limit", default: Int64(Limits.pullDefaultLimit), range: 1...Int64(Limits.pullMaxLimit))
        let full = request.uri.queryParameters["full"] == "1"
        let downloadHorizon = try request.uri.queryParameters["horizon"].map { _ in
            try integerParameter(request, "horizon", default: 0, range: 0...Int64.max)
        }
        let page = try await store.pull(
            for: member, since: since, limit: Int(limit), fullDownload: full, downloadHorizon: downloadHorizon)
        // The epoch comes from the page's own snapshot, so a page of another history is never served as this one.
        if let claimed = request.uri.queryParameters["epoch"], Substring(page.epoch ?? "") != claimed {
            throw ServerError.serverRestored
        }
        metrics?.pulled(page.changes.count)
        return try json(page, compressingFor: request)
    }

    func log(_ request: Request) async throws -> Response {
        let member = try await authenticate(request)
        let since = try integerParameter(request, "since", default: 0, range: 0...Int64.max)
        let limit = try integerParameter(request, "limit", default: 100, range: 1...Int64(Limits.logMaxLimit))
        return try json(try await store.log(for: member, since: since, limit: Int(limit)), compressingFor: request)
    }

    // MARK: Helpers

    func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty || token.count > 256 ? nil : token
    }

    func authenticate(_ request: Request) async throws -> Member {
        guard let token = bearerToken(request),
            let member = try await store.member(tokenHash: Tokens.hash(token), now: clock.now(), policy: sessions)
        else {
            throw ServerError.unauthorized
        }
        return member
    }

    func readBody(_ request: Request, limit: Int = Limits.otherRequestMaxBytes) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw ServerError.tooLarge(limit)
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer: buffer)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw ServerError.tooLarge(limit)
        } catch is NIOTooManyBytesError {
            throw ServerError.tooLarge(limit)
        }
    }

    func integerParameter(_ request: Request, _ name: String, default value: Int64, range: ClosedRange<Int64>) throws
        -> Int64
    {
        guard let text = request.uri.queryParameters[Substring(name)] else { return value }
        guard let number = Int64(text), range.contains(number) else {
            throw ServerError.badRequest(
                "invalid_parameter", "'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)."
            )
        }
        return number
    }
}

/// The zlib level of compressed responses. Measured on pull pages of the standard workload (2026-11-28): zlib's
/// default level 6 took 58 µs of server CPU per record and was the largest single cost of serving a pull (a
/// third of the server's samples in a `perf` profile of the benchmark); level 2 takes 12 µs for pages about 29 %
/// larger (24.5 % of the JSON instead of 19 %). The server's CPU is shared by every member, so the cheaper level
/// wins; the pages stay about a quarter of their JSON size.
let responseCompressionLevel: Int32 = 2

/// A JSON response; gzip-compressed when `request` accepts gzip and the body is at least 1 KiB (pulls of
/// reflections shrink to about a quarter).
func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, compressingFor request: Request? = nil) throws
    -> Response
{
    // Pull pages and push answers, the largest and most frequent, are written by hand (`PullResponse.jsonUTF8`,
    // `PushResponse.jsonUTF8`, checked against `Codable` by `JSONTextTests`): JSONEncoder was a fifth of the
    // server's work in serving a pull.
    var buffer =
        if let page = value as? PullResponse {
            ByteBuffer(bytes: page.jsonUTF8)
        } else if let answer = value as? PushResponse {
            ByteBuffer(bytes: answer.jsonUTF8)
        } else {
            ByteBuffer(bytes: try JSONEncoder().encode(value))
        }
    var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
    if let request, buffer.readableBytes >= 1024,
        request.headers[values: .acceptEncoding].contains(where: { $0.lowercased().contains("gzip") })
    {
        buffer = try buffer.compress(with: .gzip(configuration: .init(compressionLevel: responseCompressionLevel)))
        headers[.contentEncoding] = "gzip"
        headers[.vary] = "Accept-Encoding"
    }
    return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
}
