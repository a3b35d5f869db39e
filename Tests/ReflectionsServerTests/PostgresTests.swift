import Foundation
import Logging
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@testable import ReflectionsServer

/// What only PostgreSQL has to prove: several servers on one database. These run when
/// `REFLECT_TEST_POSTGRES_URL` names a cluster (`Scripts/with-postgres.sh swift test`; CI does); the rest of the
/// server suite runs on PostgreSQL with `REFLECT_TEST_ENGINE=postgres`.
@Suite(.enabled(if: TestDatabase.postgresRequired, "needs REFLECT_TEST_POSTGRES_URL (always runs when CI=true)"))
struct PostgresTests {
    /// Two servers on one fresh database, each with its own certificate, and a client for each.
    static func twoServers<T>(
        events: EventHub.Configuration = EventHub.Configuration(), clock: WallClock = .system,
        _ body: (LiveServer, LiveServer, TestHTTPClient, TestHTTPClient) async throws -> T
    ) async throws -> T {
        let database = TestDatabase.postgres(try await TestDatabase.freshPostgres())
        let a = try await LiveServer.start(database: database, events: events, clock: clock)
        let b = try await LiveServer.start(database: database, events: events, clock: clock)
        do {
            let result = try await TestHTTPClient.with(a) { clientA in
                try await TestHTTPClient.with(b) { clientB in try await body(a, b, clientA, clientB) }
            }
            try await a.stop()
            try await b.stop()
            return result
        } catch {
            try? await a.stop()
            try? await b.stop()
            throw error
        }
    }

    /// PostgreSQL answers a `COMMIT` after a failed statement with a quiet rollback; a write whose failed statement
    /// was swallowed on the way must throw, never return as if it were kept.
    @Test func aWriteWithAFailedStatementIsNeverReportedCommitted() async throws {
        let store = try await PostgresStore(url: try await TestDatabase.freshPostgres())
        let member = Member(id: UUID(), handle: "amara", displayName: "Amara", role: .member)
        await #expect(throws: ServerError.self) {
            try await store.write { tx in
                try tx.execute(
                    "INSERT INTO members (id, handle, display_name, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    member.id, member.handle, member.displayName, "x", "member", 1)
                try tx.execute("SELECT no_such_column FROM members", [])
                _ = try? (tx as? PostgresTransaction)?.drain()
            }
        }
        let kept = try await store.read { tx in
            try tx.fetchOne("SELECT COUNT(*) AS n FROM members WHERE handle = ?", "amara")?.integer("n")
        }
        #expect(kept == 0)
        try await store.close()
    }

    @Test func serversStartingTogetherMigrateOnce() async throws {
        let url = try await TestDatabase.freshPostgres()
        let logger = {
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            return logger
        }()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 {
                group.addTask { try await PostgresStore(url: url, maximumConnections: 2, logger: logger) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let migrations = try await stores[0].read { tx in
            try tx.fetchAll("SELECT name FROM reflect_migrations ORDER BY name", []).map { $0.text("name") }
        }
        // Every file of Schema/server/postgres/, once, in order.
        let files = try FileManager.default.contentsOfDirectory(
            atPath: ServerSchemaTests.schemaFolder.appendingPathComponent("postgres").path
        ).filter { $0.hasSuffix(".sql") }.map { String($0.dropLast(4)) }.sorted()
        #expect(files.count >= 3)
        #expect(migrations == files)
        let prompts = try await stores[1].prompts()
        #expect(prompts.map(\.id) == [1, 2, 3, 4, 5, 6])
        // The same tables and columns as the SQLite schema, so that one set of queries serves both.
        let pgColumns = try await stores[2].read { tx in
            Set(
                try tx.fetchAll(
                    """
                    SELECT table_name || '.' || column_name AS name FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name <> 'reflect_migrations'
                    """, []
                ).map { $0.text("name") })
        }
        let sqlite = try SQLiteStore(path: TemporaryDirectory.make(prefix: "parity").appendingPathComponent("db").path)
        let sqliteColumns = try await sqlite.read { tx in
            Set(
                try tx.fetchAll(
                    """
                    SELECT m.name || '.' || p.name AS name FROM sqlite_master m JOIN pragma_table_info(m.name) p
                    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'grdb_%'
                    """, []
                ).map { $0.text("name") })
        }
        try sqlite.close()
        #expect(pgColumns == sqliteColumns)
        #expect(pgColumns.contains("change_log.seq") && pgColumns.contains("login_failures.locked_until"))
        for store in stores { await store.close() }
        // A restart finds everything in place and applies nothing again.
        let again = try await PostgresStore(url: url, maximumConnections: 1, logger: logger)
        let count = try await again.read { tx in
            try tx.fetchAll("SELECT count(*) AS n FROM reflect_migrations", [])[0].integer("n")
        }
        #expect(count == files.count)
        await again.close()
    }

    /// The cursor trap: pushers through two servers at once, and a puller alternating between them, must see
    /// every change exactly once and in increasing sequence order.
    @Test func aPullerAlternatingBetweenServersSeesEveryChangeExactlyOnce() async throws {
        try await Self.twoServers { a, _, clientA, clientB in
            let clients = [clientA, clientB]
            let reader = try await clientA.member("reader")
            let writers = 6
            let pushesPerWriter = 25
            var sessions: [SessionResponse] = []
            for index in 0..<writers { sessions.append(try await clients[index % 2].member("writer\(index)")) }
            let done = LockedBox(false)

            async let seen: [Change] = {
                var cursor: Int64 = 0
                var changes: [Change] = []
                var turn = 0
                while true {
                    let finished = done.value
                    // Drain, alternating servers page by page.
                    while true {
                        let answer = try await clients[turn % 2].send(
                            .GET, "/v1/sync/pull?since=\(cursor)&limit=7", token: reader.token)
                        turn += 1
                        guard answer.status == 200 else { throw TestFailure("pull \(answer.status)") }
                        let page = try answer.decode(PullResponse.self)
                        changes += page.changes
                        cursor = page.nextCursor
                        if !page.hasMore { break }
                    }
                    // Every push was acknowledged (committed) before `done`: this drain saw them all.
                    if finished { return changes }
                }
            }()

            let created = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for (index, session) in sessions.enumerated() {
                    group.addTask {
                        var device = MutationFactory()
                        var ids: [UUID] = []
                        for push in 0..<pushesPerWriter {
                            let batch = (0..<(1 + push % 3)).map { _ in
                                device.createReflection(title: "w\(index)", visibility: .community)
                            }
                            let results = try await clients[(index + push) % 2].push(
                                batch, client: device.clientID, token: session.token)
                            guard results.allSatisfy({ $0.outcome == .applied }) else {
                                throw TestFailure("push not applied: \(results)")
                            }
                            ids += batch.map(\.target.id)
                        }
                        return ids
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            done.update { $0 = true }
            let changes = try await seen

            let ids = changes.map(\.id)
            // What the database holds, not what the loop counted.
            let stored = try await (a.store as! any SQLEngine).read { tx in
                try tx.fetchAll("SELECT id FROM reflections", []).map { $0.uuid("id") }
            }
            #expect(Set(stored) == Set(created))
            let missed = Set(created).subtracting(ids).count
            let unexpected = Set(ids).subtracting(created).count
            let repeated = ids.count - Set(ids).count
            #expect(missed == 0 && unexpected == 0 && repeated == 0)
            let sequences = changes.map(\.sequence)
            let increasing = zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 }
            #expect(increasing)
        }
    }

    /// `LISTEN`/`NOTIFY`: a push through one server wakes a stream held by the other at once (heartbeats are
    /// two minutes apart here, so only the notification can do it), and so does a logout.
    @Test func aCommitOnOneServerWakesStreamsOnTheOther() async throws {
        try await Self.twoServers(events: EventHub.Configuration(heartbeat: .seconds(120))) { _, _, clientA, clientB in
            let amara = try await clientA.member("amara")
            let bo = try await clientA.member("bo.k")
            let stream = try await clientB.openEvents(token: bo.token)
            #expect(stream.status == 200)
            var device = MutationFactory()
            _ = try await clientA.push(
                [device.createReflection(body: "Private.\n")], client: device.clientID, token: amara.token)
            #expect(await stream.next("changes", within: .seconds(1)) == nil)
            let shared = try await clientA.push(
                [device.createReflection(body: "Shared.\n", visibility: .community)], client: device.clientID,
                token: amara.token)
            let event = try #require(await stream.next("changes", within: .seconds(3)))
            #expect(Int64(event.event.id ?? "") ?? 0 >= shared[0].sequence!)
            #expect(try await clientA.send(.DELETE, "/v1/sessions/current", token: bo.token).status == 204)
            #expect(await stream.next("unauthorized", within: .seconds(3)) != nil)
            #expect(await stream.waitUntilEnded(within: .seconds(3)))
        }
    }

    @Test func aPushResentToTheOtherServerAppliesOnce() async throws {
        try await Self.twoServers { _, _, clientA, clientB in
            let amara = try await clientA.member("amara")
            var device = MutationFactory()
            let batch = [device.createReflection(title: "Once", visibility: .private)]
            let first = try await clientA.push(batch, client: device.clientID, token: amara.token)
            let again = try await clientB.push(batch, client: device.clientID, token: amara.token)
            #expect(first.first?.outcome == .applied)
            #expect(again.first?.outcome == .duplicate)
            #expect(again.first?.originalOutcome == .applied)
            #expect(again.first?.sequence == first.first?.sequence)
            let (changes, _) = try await clientB.pullAll(token: amara.token)
            #expect(changes.map(\.id) == [batch[0].target.id])
        }
    }

    @Test func privacyAndConflictsHoldAcrossServers() async throws {
        try await Self.twoServers { _, _, clientA, clientB in
            let amara = try await clientA.member("amara")
            let bo = try await clientB.member("bo.k")
            var phone = MutationFactory()
            var laptop = MutationFactory()
            let secret = phone.createReflection(title: "Private", body: "Only mine.\n", visibility: .private)
            _ = try await clientA.push([secret], client: phone.clientID, token: amara.token)
            // Another member, on the other server, receives nothing of it and cannot change it.
            let (boChanges, _) = try await clientB.pullAll(token: bo.token)
            #expect(boChanges.isEmpty)
            var boDevice = MutationFactory()
            let intrusion = try await clientB.push(
                [boDevice.update(.reflection, secret.target.id, base: 1, changes: FieldChanges(body: "Mine now.\n"))],
                client: boDevice.clientID, token: bo.token)
            #expect(intrusion.first?.outcome == .rejected)
            #expect(intrusion.first?.code == "not_found")
            // Two devices change the same title through different servers: a true conflict, kept for the author.
            let one = try await clientA.push(
                [phone.update(.reflection, secret.target.id, base: 1, changes: FieldChanges(title: "From the phone"))],
                client: phone.clientID, token: amara.token)
            let two = try await clientB.push(
                [
                    laptop.update(
                        .reflection, secret.target.id, base: 1, changes: FieldChanges(title: "From the laptop"))
                ],
                client: laptop.clientID, token: amara.token)
            #expect(one.first?.outcome == .applied)
            #expect(two.first?.outcome == .conflict)
            for client in [clientA, clientB] {
                let (changes, _) = try await client.pullAll(token: amara.token)
                let change = changes.first { $0.id == secret.target.id }
                #expect(change?.reflection?.title == "From the phone")
                #expect(change?.reflection?.conflicted == true)
                #expect(change?.revisions?.first?.fields.title == "From the laptop")
            }
        }
    }

    @Test func failedLoginsCountOnEveryServer() async throws {
        // Both servers' clocks stand still at one instant: the 1 s wait must not run out on a loaded machine.
        try await Self.twoServers(clock: .fixed(WallClock.system.now())) { _, _, clientA, clientB in
            _ = try await clientA.member("amara")
            var statuses: [Int] = []
            for attempt in 0..<6 {
                let answer = try await [clientA, clientB][attempt % 2].send(
                    .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: "wrong password!"))
                statuses.append(answer.status)
            }
            #expect(statuses == [401, 401, 401, 401, 401, 429])
        }
    }

    /// The real executables: `reflectd user add --database …` and two `reflectd serve --database …` processes on
    /// one database; a member added once logs in through either.
    @Test func reflectdProcessesShareOneDatabase() async throws {
        let url = try await TestDatabase.freshPostgres().address
        let add = try await CLIRunner.run(
            "reflectd",
            [
                "user", "add", "--data", TemporaryDirectory.make(prefix: "pg-admin").path, "--database", url,
                "--handle", "amara", "--password-stdin",
            ],
            stdin: "a long enough password\n")
        #expect(add.status == 0, "\(add.stderr)")
        let first = try await ServerProcess.start(
            dataDirectory: TemporaryDirectory.make(prefix: "pg-one"), arguments: ["--database", url])
        // The second takes its address from the environment, as a deployment keeps the password out of argv.
        let second = try await ServerProcess.start(
            dataDirectory: TemporaryDirectory.make(prefix: "pg-two"), environment: ["REFLECTD_DATABASE": url])
        for server in [first, second] {
            let client = try TestHTTPClient(baseURL: server.baseURL, certificatePEM: server.certificatePEM)
            let login = try await client.send(
                .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: "a long enough password"))
            #expect(login.status == 201)
            try await client.shutdown()
        }
        #expect(await first.stop() == 0)
        #expect(await second.stop() == 0)
        #expect(first.printed.contains("postgres://reflect@"))
        #expect(!first.printed.contains("sslmode=disable&"))
    }

    @Test func aBadDatabaseAddressIsAClearError() async throws {
        let data = TemporaryDirectory.make(prefix: "pg-bad").path
        let wrongScheme = try await CLIRunner.run(
            "reflectd", ["user", "list", "--data", data, "--database", "mysql://x"])
        #expect(wrongScheme.status == 64)
        #expect(wrongScheme.stderr.contains("postgres://"))
        let badMode = try await CLIRunner.run(
            "reflectd", ["user", "list", "--data", data, "--database", "postgres://u@127.0.0.1/db?sslmode=maybe"])
        #expect(badMode.status == 64)
        #expect(badMode.stderr.contains("sslmode"))
        // Nothing listens on port 1: the command fails with a message, not a hang or a crash.
        let unreachable = try await CLIRunner.run(
            "reflectd", ["user", "list", "--data", data, "--database", "postgres://u@127.0.0.1:1/db?sslmode=disable"])
        #expect(unreachable.status != 0)
        #expect(!unreachable.stderr.isEmpty)
    }
}
