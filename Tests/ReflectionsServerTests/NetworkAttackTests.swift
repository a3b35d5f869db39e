import Foundation
import NIOCore
import NIOSSL
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@testable import ReflectionsServer

/// Attacks that need a real HTTPS server: password guessing from several addresses, slow clients, weak TLS
/// suites and old tokens (RELIABILITY.md, "Security").
@Suite struct NetworkAttackTests {
    static let password = "a long enough password"

    func login(_ server: LiveServer, from source: String, handle: String = "amara", password: String) async throws
        -> Int
    {
        try await RawTLSConnection.exchange(
            port: server.port, certificatePEM: server.certificatePEM, from: source, method: "POST",
            path: "/v1/sessions", json: try JSONEncoder().encode(LoginRequest(handle: handle, password: password))
        ).status
    }

    @Test func parallelGuessesAreCountedWhileInFlight() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                _ = try await client.member("amara")
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<30 {
                        group.addTask {
                            try await client.send(
                                .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: "wrong password!")
                            ).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let checked = statuses.filter { $0 == 401 }.count
                // Five free attempts; each later one only once the doubling wait (1 s, 2 s, …) is over.
                #expect(checked >= 5 && checked <= 7, "\(statuses)")
                #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 })
                #expect(statuses.filter { $0 == 429 }.count >= 23)
            }
        }
    }

    @Test func guessesFromOneAddressDoNotLockTheMemberOutFromAnother() async throws {
        // The server's clock stands still: the 1 s wait after the fifth guess must not run out on a loaded machine
        // before the next attempts arrive (it did, once, in CI).
        try await LiveServer.with(clock: .fixed(WallClock.system.now())) { server in
            try await TestHTTPClient.with(server) { client in _ = try await client.member("amara") }
            var guesses: [Int] = []
            for _ in 0..<6 {
                guesses.append(try await login(server, from: "127.0.0.2", password: "wrong password!"))
            }
            #expect(guesses == [401, 401, 401, 401, 401, 429])
            #expect(try await login(server, from: "127.0.0.2", password: Self.password) == 429)
            // The member, from her own address, is not locked out.
            #expect(try await login(server, from: "127.0.0.3", password: Self.password) == 201)
        }
    }

    @Test func loginAttemptsAreCountedPerIPv4AddressAndPerIPv6Prefix() throws {
        let key = { (address: String) in ReflectContext.throttleKey(try SocketAddress(ipAddress: address, port: 1)) }
        #expect(try key("127.0.0.2") == "127.0.0.2")
        #expect(try key("127.0.0.2") != key("127.0.0.3"))
        #expect(try key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        #expect(try key("2001:db8:1:2::1") != key("2001:db8:1:3::1"))
        #expect(try key("::ffff:192.0.2.7") == "192.0.2.7")
    }

    @Test func aHandleThatCannotExistIsRefusedBeforeAnythingIsStored() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                for handle in [String(repeating: "x", count: 60_000), "Robert'); DROP TABLE members;--", ""] {
                    let answer = try await client.send(
                        .POST, "/v1/sessions", json: LoginRequest(handle: handle, password: "wrong password!"))
                    #expect(answer.status == 401)
                    #expect(answer.errorCode == "bad_credentials")
                }
                let stored = try await server.allText(of: ["login_attempts", "login_failures"])
                #expect(stored.isEmpty)
            }
        }
    }

    @Test func aRequestThatDripsIsCutOff() async throws {
        let server = try await LiveServer.start(headerTimeoutSeconds: 2, requestTimeoutSeconds: 3)
        do {
            try await dripAt(server)
            try await server.stop()
        } catch {
            try? await server.stop()
            throw error
        }
    }

    func dripAt(_ server: LiveServer) async throws {
        // Headers, a byte every half second: closed at the header deadline although bytes keep coming.
        // A body, a byte every half second: closed at the request deadline.
        let starts = [
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
            "POST /v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 4000\r\n\r\n{\"handle\":\"",
        ]
        for start in starts {
            let connection = try await RawTLSConnection.open(port: server.port, certificatePEM: server.certificatePEM)
            try await connection.send(start)
            let began = ContinuousClock.now
            let drip = Task {
                for _ in 0..<40 {
                    try await Task.sleep(for: .milliseconds(500))
                    try await connection.send("a")
                }
            }
            _ = try await connection.receiveAll(timeout: .seconds(30))
            let closedAfter = ContinuousClock.now - began
            drip.cancel()
            // The drip would have gone on for 20 s; the server closed long before.
            #expect(closedAfter < .seconds(15), "\(start.prefix(20)): \(closedAfter)")
        }
        // A large body at a steady 32 KiB/s takes longer than the request deadline, but earns the time it needs.
        let token = try await TestHTTPClient.with(server) { client in try await client.member("amara").token }
        let json = "{\"protocolVersion\":1,\"clientID\":\"\(UUID().uuidString)\",\"mutations\":[]}"
        let body = json + String(repeating: " ", count: 160 * 1024 - json.utf8.count)
        let slow = try await RawTLSConnection.open(port: server.port, certificatePEM: server.certificatePEM)
        try await slow.send(
            "POST /v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n")
        var rest = Substring(body)
        while !rest.isEmpty {
            try await slow.send(String(rest.prefix(16 * 1024)))
            rest = rest.dropFirst(16 * 1024)
            try await Task.sleep(for: .milliseconds(500))
        }
        let answer = String(decoding: try await slow.receiveAll(timeout: .seconds(30)), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(80))")
        // A normal request still works.
        let status = try await TestHTTPClient.with(server) { client in try await client.send(.GET, "/healthz").status }
        #expect(status == 200)
    }

    @Test func tls12OffersOnlyForwardSecretAEADSuites() async throws {
        try await LiveServer.with { server in
            let trust = NIOSSLTrustRoots.certificates(
                try NIOSSLCertificate.fromPEMBytes(Array(server.certificatePEM.utf8)))
            func attempt(_ suites: [NIOTLSCipher]) async -> (any Error)? {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = trust
                tls.certificateVerification = .noHostnameVerification
                tls.minimumTLSVersion = .tlsv12
                tls.maximumTLSVersion = .tlsv12
                tls.cipherSuiteValues = suites
                do {
                    let connection = try await RawTLSConnection.open(
                        port: server.port, certificatePEM: server.certificatePEM, tls: tls)
                    try await connection.handshake()
                    try await connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    let answer = String(decoding: try await connection.receiveAll(timeout: .seconds(10)), as: UTF8.self)
                    return answer.hasPrefix("HTTP/1.1 200") ? nil : TestFailure("answer: \(answer.prefix(40))")
                } catch {
                    return error
                }
            }
            // The control: the same client with an AEAD suite gets its answer, so a failure below is the suite's.
            #expect(await attempt([.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]) == nil)
            for suite: NIOTLSCipher in [
                .TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, .TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
                .TLS_RSA_WITH_AES_128_CBC_SHA,
            ] {
                let error = await attempt([suite])
                #expect(error is NIOSSLError, "suite \(suite.rawValue): \(String(describing: error))")
            }
        }
    }

    @Test func sessionsExpireAndAnOperatorCanListAndRevokeThem() async throws {
        try await StoreHarness.with { h in
            let amara = try await h.member("amara")
            let policy = SessionPolicy(idleDays: 30, maxDays: 180)
            let day: Int64 = 24 * 60 * 60 * 1000
            let t0: Int64 = 1_800_000_000_000
            try await h.store.createSession(tokenHash: "idle", memberID: amara.id, now: t0)
            try await h.store.createSession(tokenHash: "busy", memberID: amara.id, now: t0)
            #expect(try await h.store.member(tokenHash: "idle", now: t0 + 29 * day, policy: policy) == amara)
            // Used on day 29, so idle until day 59.
            #expect(try await h.store.member(tokenHash: "idle", now: t0 + 58 * day, policy: policy) == amara)
            #expect(try await h.store.member(tokenHash: "idle", now: t0 + 89 * day, policy: policy) == nil)
            // Used every 20 days, it still ends at 180 days.
            for dayNumber in stride(from: Int64(20), through: 160, by: 20) {
                #expect(try await h.store.member(tokenHash: "busy", now: t0 + dayNumber * day, policy: policy) == amara)
            }
            #expect(try await h.store.member(tokenHash: "busy", now: t0 + 181 * day, policy: policy) == nil)
            // An expired session is gone, not only refused.
            #expect(try await h.store.sessions(handle: "amara", policy: policy).isEmpty)

            try await h.store.createSession(tokenHash: "phone", memberID: amara.id, now: t0)
            try await h.store.createSession(tokenHash: "laptop", memberID: amara.id, now: t0)
            let listed = try await h.store.sessions(handle: "amara", policy: policy)
            #expect(listed.count == 2)
            #expect(listed.allSatisfy { $0.expiresAt == t0 + 30 * day })
            #expect(try await h.store.revokeSessions(handle: "amara") == 2)
            #expect(try await h.store.member(tokenHash: "phone", now: t0 + 1, policy: policy) == nil)
        }
    }

    @Test func aMemberCanEndEverySessionOfTheirsAtOnce() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let laptop = try await client.member("amara")
                let phone = try await client.send(
                    .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: Self.password)
                ).decode(SessionResponse.self)
                let bo = try await client.member("bo.k")
                #expect(try await client.send(.DELETE, "/v1/sessions", token: phone.token).status == 204)
                for token in [laptop.token, phone.token] {
                    #expect(try await client.send(.GET, "/v1/me", token: token).status == 401)
                }
                // Nobody else's.
                #expect(try await client.send(.GET, "/v1/me", token: bo.token).status == 200)
                #expect(try await client.send(.DELETE, "/v1/sessions").status == 401)
            }
        }
    }

    @Test func reflectdUserSessionsListsAndRevokes() async throws {
        let data = TemporaryDirectory.make(prefix: "sessions-cli")
        let add = try await CLIRunner.run(
            "reflectd", ["user", "add", "--data", data.path, "--handle", "amara", "--password-stdin"],
            stdin: Self.password + "\n")
        #expect(add.status == 0, "\(add.stderr)")
        let store = try SQLiteStore(path: ServerConfiguration(dataDirectory: data).databasePath)
        let amara = try #require(try await store.credentials(handle: "amara")?.member)
        try await store.createSession(tokenHash: Tokens.hash("token-one"), memberID: amara.id, now: 1)
        try store.close()
        let list = try await CLIRunner.run("reflectd", ["user", "sessions", "amara", "--data", data.path, "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        let sessions = try JSONDecoder().decode([SessionSummary].self, from: Data(list.stdout.utf8))
        #expect(sessions.map(\.id) == [String(Tokens.hash("token-one").prefix(12))])
        #expect(!list.stdout.contains(Tokens.hash("token-one")))
        let revoke = try await CLIRunner.run(
            "reflectd", ["user", "sessions", "amara", "--data", data.path, "--revoke"])
        #expect(revoke.status == 0)
        #expect(revoke.stdout.contains("ended 1 session"))
        let unknown = try await CLIRunner.run("reflectd", ["user", "sessions", "nobody", "--data", data.path])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("nobody"))
    }
}
