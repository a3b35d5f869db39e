import Foundation
import GRDB
import ReflectionsClient
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Synchronization
import Testing

/// `kill -9` of real `reflect sync` and `reflectd` processes: after restart and resync, no acknowledged write is
/// lost, nothing is duplicated, and every database passes `PRAGMA integrity_check`.
///
/// `REFLECT_CRASH_RUNS` (default 50) and `REFLECT_CRASH_CYCLES` (default 20) set how many.
@Suite(.serialized) struct CrashTests {
    static let env = ProcessInfo.processInfo.environment
    static let syncRuns = env["REFLECT_CRASH_RUNS"].flatMap(Int.init) ?? 50
    static let serverCycles = env["REFLECT_CRASH_CYCLES"].flatMap(Int.init) ?? 20

    static func integrity(_ path: String) throws -> String {
        try DatabaseQueue(path: path).read { try String.fetchOne($0, sql: "PRAGMA integrity_check") ?? "" }
    }

    @Test func killingReflectSyncAtRandomMomentsLosesAndDuplicatesNothing() async throws {
        let server = try await ServerProcess.start(dataDirectory: TemporaryDirectory.make(prefix: "crash-server"))
        var rng = SeededGenerator(seed: 2026)
        let home = TemporaryDirectory.make(prefix: "crash-home")
        var written: Set<UUID> = []
        do {
            let client = try Home.open(home)
            try client.setUp(
                serverURL: server.baseURL,
                trust: try await Home.trust(pin: server.fingerprint, serverURL: server.baseURL))
            try await client.register(handle: "amara", password: Device.password)
            try await client.close()
        }
        var killed = 0
        for run in 0..<Self.syncRuns {
            let store = try ClientStore.open(home: home)
            for k in 0..<Int.random(in: 5...40, using: &rng) {
                let body = String(
                    repeating: "Words from run \(run), number \(k). ", count: Int.random(in: 5...60, using: &rng))
                written.insert(try store.write(title: "Run \(run) #\(k)", body: body, visibility: .community).id)
            }
            try store.close()
            let process = Process()
            process.executableURL = CLIRunner.binDirectory.appendingPathComponent("reflect")
            process.arguments = ["--home", home.path, "sync"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...600, using: &rng)))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            while process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        }
        let final = try await CLIRunner.run("reflect", ["--home", home.path, "sync"])
        #expect(final.status == 0, "\(final.stderr)")
        #expect(killed > 0)

        // The server holds each written reflection exactly once; the client has nothing pending.
        let store = try ClientStore.open(home: home)
        #expect(try store.status().pendingMutations == 0)
        #expect(Set(try store.reflections().map(\.reflection.id)) == written)
        try store.close()
        let status = await server.stop()
        #expect(status == 0)
        let serverDB = server.dataDirectory.appendingPathComponent("reflectd.sqlite").path
        let (ids, creates) = try await DatabaseQueue(path: serverDB).read { db in
            (
                Set(try String.fetchAll(db, sql: "SELECT id FROM reflections").compactMap { UUID(uuidString: $0) }),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change_log WHERE operation = 'create'") ?? 0
            )
        }
        #expect(ids == written)
        #expect(creates == written.count)
        #expect(try Self.integrity(serverDB) == "ok")
        #expect(try Self.integrity(home.appendingPathComponent("reflect.sqlite").path) == "ok")
        Reliability.record(
            "crash: reflect sync killed",
            [
                "runs": Self.syncRuns, "killed": killed, "written": written.count,
                "lost": written.count - ids.intersection(written).count, "duplicated": creates - written.count,
            ])
    }

    @Test func killingReflectdUnderConcurrentPushesLosesNoAcknowledgedWrite() async throws {
        let data = TemporaryDirectory.make(prefix: "crash-reflectd")
        let run = try await Self.killReflectdRepeatedly(data: data, arguments: [], cycles: Self.serverCycles)
        let path = data.appendingPathComponent("reflectd.sqlite").path
        #expect(try Self.integrity(path) == "ok")
        let (stored, rows) = try await DatabaseQueue(path: path).read { db in
            (
                Set(try String.fetchAll(db, sql: "SELECT id FROM reflections").compactMap { UUID(uuidString: $0) }),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reflections") ?? 0
            )
        }
        let lost = run.acknowledged.subtracting(stored)
        #expect(!run.acknowledged.isEmpty)
        #expect(lost.isEmpty, "\(lost.count) acknowledged reflections lost")
        // After the re-sends, everything sent is stored, once; a re-sent committed batch answered `duplicate`.
        #expect(stored == run.attempted)
        #expect(rows == stored.count)
        #expect(run.resentOther == 0)
        Reliability.record(
            "crash: reflectd killed under 4 pushers",
            run.figures.merging(["stored": stored.count, "lost": lost.count], uniquingKeysWith: +))
    }

    /// The same on PostgreSQL: a server killed with writes sent but not committed leaves nothing half-done, and
    /// nothing it acknowledged is lost.
    @Test(.enabled(if: TestDatabase.postgresRequired, "needs REFLECT_TEST_POSTGRES_URL (always runs when CI=true)"))
    func killingReflectdOnPostgresLosesNoAcknowledgedWrite() async throws {
        let url = try await TestDatabase.freshPostgres()
        let run = try await Self.killReflectdRepeatedly(
            data: TemporaryDirectory.make(prefix: "crash-reflectd-pg"), arguments: ["--database", url.address],
            cycles: max(1, Self.serverCycles / 2))
        let store = try await PostgresStore(url: url, maximumConnections: 1)
        let stored = try await store.read { tx in
            Set(try tx.fetchAll("SELECT id FROM reflections", []).map { $0.uuid("id") })
        }
        let versions = try await store.read { tx in
            try tx.fetchAll("SELECT count(*) AS n FROM record_versions", [])[0].integer("n")
        }
        await store.close()
        let lost = run.acknowledged.subtracting(stored)
        #expect(!run.acknowledged.isEmpty)
        #expect(lost.isEmpty, "\(lost.count) acknowledged reflections lost")
        #expect(stored == run.attempted)
        #expect(run.resentOther == 0)
        // Every stored record has its version row: no transaction was half applied.
        #expect(versions == stored.count)
        Reliability.record(
            "crash: reflectd on PostgreSQL killed under 4 pushers",
            run.figures.merging(["stored": stored.count, "lost": lost.count], uniquingKeysWith: +))
    }

    /// What a run of kills did: the ids acknowledged as applied, all ids sent, and what re-sending every batch
    /// that got no answer brought (a committed batch whose answer the kill cut off must answer `duplicate`).
    struct KillRun {
        var acknowledged: Set<UUID>
        var attempted: Set<UUID>
        var cycles: Int
        var resentBatches = 0
        var resentDuplicate = 0
        var resentApplied = 0
        var resentOther = 0

        var figures: [String: Int] {
            [
                "cycles": cycles, "acknowledged": acknowledged.count, "resent_batches": resentBatches,
                "resent_duplicate": resentDuplicate, "resent_applied": resentApplied, "resent_other": resentOther,
            ]
        }
    }

    /// Starts `reflectd serve` on `data` `cycles` times, kills it with SIGKILL after 150–600 ms of four clients
    /// pushing batches of 10, and restarts it once more at the end, where every batch that got no answer is sent
    /// again, as a client does.
    static func killReflectdRepeatedly(data: URL, arguments: [String], cycles total: Int) async throws -> KillRun {
        var rng = SeededGenerator(seed: 7)
        var token = ""
        let acknowledged = LockedBox<Set<UUID>>([])
        let attempted = LockedBox<Set<UUID>>([])
        let unanswered = LockedBox<[PushRequest]>([])
        var cycles = 0
        for cycle in 0..<total {
            let server = try await ServerProcess.start(dataDirectory: data, arguments: arguments)
            if cycle == 0 {
                let client = try TestHTTPClient(baseURL: server.baseURL, certificatePEM: server.certificatePEM)
                token = try await client.member("amara").token
                try await client.shutdown()
            }
            let killAfter = Int.random(in: 150...600, using: &rng)
            let sessionToken = token
            try await withThrowingTaskGroup(of: Void.self) { group in
                for pusher in 0..<4 {
                    group.addTask {
                        let client = try TestHTTPClient(baseURL: server.baseURL, certificatePEM: server.certificatePEM)
                        var device = MutationFactory(
                            clientID: UUID(uuidString: "00000000-0000-0000-0000-00000000000\(pusher)")!)
                        for _ in 0..<1000 {
                            let batch = (0..<10).map { _ in device.createReflection(body: "Under load.\n") }
                            attempted.update { $0.formUnion(batch.map(\.target.id)) }
                            let request = PushRequest(clientID: device.clientID, mutations: batch)
                            guard
                                let answer = try? await client.send(
                                    .POST, "/v1/sync/push", json: request, token: sessionToken),
                                answer.status == 200
                            else {
                                unanswered.update { $0.append(request) }
                                break
                            }
                            if answer.status == 200 {
                                let results = try answer.decode(PushResponse.self).results
                                let applied = zip(batch, results).filter { $0.1.effectiveOutcome == .applied }
                                acknowledged.update { $0.formUnion(applied.map { $0.0.target.id }) }
                            }
                        }
                        try? await client.shutdown()
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(killAfter))
                    await server.kill()
                }
                try await group.waitForAll()
            }
            cycles += 1
        }
        // Restart once more: it must start on what the kills left. Every batch without an answer is sent again.
        let server = try await ServerProcess.start(dataDirectory: data, arguments: arguments)
        var run = KillRun(acknowledged: acknowledged.value, attempted: attempted.value, cycles: cycles)
        let client = try TestHTTPClient(baseURL: server.baseURL, certificatePEM: server.certificatePEM)
        for request in unanswered.value {
            run.resentBatches += 1
            for result in try await client.push(request.mutations, client: request.clientID, token: token) {
                switch (result.outcome, result.originalOutcome) {
                case (.duplicate, .applied): run.resentDuplicate += 1
                case (.applied, _): run.resentApplied += 1
                default: run.resentOther += 1
                }
            }
        }
        try await client.shutdown()
        _ = await server.stop()
        return run
    }
}
