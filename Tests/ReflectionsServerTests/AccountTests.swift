import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@Suite struct AccountTests {
    @Test func registerLoginAndLogoutOverHTTPS() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                // 256 random bits in base64url without padding: 43 characters of A-Z a-z 0-9 - _.
                #expect(session.token.count == 43)
                #expect(session.token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) })
                let me = try await client.send(.GET, "/v1/me", token: session.token)
                #expect(me.status == 200)
                #expect(try me.decode(Member.self).handle == "amara")

                let logout = try await client.send(.DELETE, "/v1/sessions/current", token: session.token)
                #expect(logout.status == 204)
                let after = try await client.send(.GET, "/v1/me", token: session.token)
                #expect(after.status == 401)
                #expect(after.errorCode == "unauthorized")
            }
        }
    }

    @Test func tokensAreStoredOnlyAsHashes() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("bo.k")
                // Every text of every table, on either engine…
                let tables = ["members", "sessions", "clients", "change_log", "login_failures"]
                var database = try await server.allText(of: tables)
                var wal = ""
                if case .sqlite = server.database {
                    // …and for SQLite the raw file and its log too, free pages included.
                    database += String(
                        decoding: try Data(contentsOf: server.dataDirectory.appendingPathComponent("reflectd.sqlite")),
                        as: UTF8.self)
                    wal =
                        (try? Data(contentsOf: server.dataDirectory.appendingPathComponent("reflectd.sqlite-wal")))
                        .map { String(decoding: $0, as: UTF8.self) } ?? ""
                }
                #expect(database.contains("bo.k"))
                #expect(!database.contains(session.token) && !wal.contains(session.token))
                #expect(!database.contains("a long enough password") && !wal.contains("a long enough password"))
            }
        }
    }

    @Test func badRegistrationsAreRefusedWithTheirCode() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let short = try await client.send(
                    .POST, "/v1/accounts", json: RegisterRequest(handle: "amara", password: "short"))
                #expect(short.status == 400)
                #expect(short.errorCode == "validation.password_too_short")
                let badHandle = try await client.send(
                    .POST, "/v1/accounts", json: RegisterRequest(handle: "a b", password: "long enough password"))
                #expect(badHandle.errorCode == "validation.invalid_handle")
                _ = try await client.member("amara")
                let taken = try await client.send(
                    .POST, "/v1/accounts", json: RegisterRequest(handle: "Amara", password: "long enough password"))
                #expect(taken.status == 409)
                #expect(taken.errorCode == "handle_taken")
            }
        }
    }

    @Test func anInviteOnlyServerRefusesRegistration() async throws {
        try await LiveServer.with(inviteOnly: true) { server in
            try await TestHTTPClient.with(server) { client in
                let answer = try await client.send(
                    .POST, "/v1/accounts", json: RegisterRequest(handle: "amara", password: "long enough password"))
                #expect(answer.status == 403)
                #expect(answer.errorCode == "invite_only")
            }
        }
    }

    @Test func repeatedFailedLoginsGet429WithRetryAfter() async throws {
        // A fixed server clock: the 1 s wait must not run out between requests on a loaded machine.
        try await LiveServer.with(clock: .fixed(WallClock.system.now())) { server in
            try await TestHTTPClient.with(server) { client in
                _ = try await client.member("amara")
                var statuses: [Int] = []
                for _ in 0..<6 {
                    let answer = try await client.send(
                        .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: "wrong password!"))
                    statuses.append(answer.status)
                    if answer.status == 429 {
                        #expect(Int(answer.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
                        #expect(answer.errorCode == "too_many_attempts")
                    }
                }
                #expect(statuses.prefix(5).allSatisfy { $0 == 401 })
                #expect(statuses.last == 429)
                // Even the right password waits until the delay is over.
                let right = try await client.send(
                    .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: "a long enough password"))
                #expect(right.status == 429)
            }
        }
    }
}
