import Foundation
import GRDB
import ReflectionsClient
import ReflectionsModel
import ReflectionsTestSupport
import Synchronization
import Testing

@testable import ReflectionsServer

/// Seeded simulation: 2–8 replicas (devices of 1–3 members) over the real client store, the real merge code and
/// the real server storage, with offline periods, random sync order, dropped responses, duplicated pushes,
/// syncs killed part-way, skewed and jumping clocks, visibility flips, deletes and comments.
///
/// Afterwards every replica must equal what the server says its member may see, nothing may be applied twice,
/// and every edit ever made must be in the final state, in a kept conflict revision, or in a rejected change kept
/// on its device. `REFLECT_SIM_SEEDS=N` runs N seeds (default 1,000); `REFLECT_SIM_SEED=S` replays one.
@Suite struct SimulationTests {
    static let seeds: [UInt64] = {
        let env = ProcessInfo.processInfo.environment
        if let one = env["REFLECT_SIM_SEED"].flatMap(UInt64.init) { return [one] }
        return Array(1...(env["REFLECT_SIM_SEEDS"].flatMap(UInt64.init) ?? 1000))
    }()

    /// Runs every seed (two at a time) and reports each failing one with the line that replays it.
    @Test func replicasConvergeAndLoseNothing() async throws {
        let totals = LockedBox(SimulationTotals())
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                guard next < Self.seeds.count else { return }
                let seed = Self.seeds[next]
                next += 1
                group.addTask {
                    let simulation = try Simulation(seed: seed)
                    defer { simulation.close() }
                    try await simulation.run()
                    let problems = try await simulation.check()
                    totals.update { $0.add(simulation, problems: problems) }
                    if !problems.isEmpty {
                        Issue.record(
                            "seed \(seed): \(problems.prefix(5).joined(separator: "; ")) — replay with REFLECT_SIM_SEED=\(seed)"
                        )
                    }
                }
            }
            add()
            add()
            while try await group.next() != nil { add() }
        }
        let t = totals.value
        Reliability.record(
            "simulation",
            [
                "seeds": t.seeds, "replicas": t.replicas, "syncs": t.syncs, "faults": t.faults,
                "edits_checked": t.edits,
                "lost": t.lost, "duplicated": t.duplicated, "leaked": t.leaked, "diverged": t.diverged,
                "failed_seeds": t.failedSeeds,
            ])
    }
}

/// What all seeds of a run did and found.
struct SimulationTotals: Sendable {
    var seeds = 0
    var replicas = 0
    var syncs = 0
    var faults = 0
    var edits = 0
    var lost = 0
    var duplicated = 0
    var leaked = 0
    var diverged = 0
    var failedSeeds = 0

    mutating func add(_ simulation: Simulation, problems: [String]) {
        seeds += 1
        replicas += simulation.replicas.count
        syncs += simulation.syncs
        faults += simulation.faults
        edits += simulation.markers.count
        lost += problems.filter { $0.contains("is lost") }.count
        duplicated += problems.filter { $0.contains("applied twice") }.count
        leaked += problems.filter { $0.contains("may not see") }.count
        diverged += problems.filter { $0.contains("differs") || $0.contains("pending") }.count
        failedSeeds += problems.isEmpty ? 0 : 1
    }
}

/// The simulated world time, and each replica's skewed view of it.
final class SimClock: Sendable {
    let now = Mutex<Int64>(1_800_000_000_000)
    func advance(_ millis: Int64) { now.withLock { $0 += millis } }
    func read() -> Int64 { now.withLock { $0 } }
}

/// A direct, in-process transport to the server's storage that injects the faults a network and a kill cause.
final class SimTransport: SyncTransport {
    enum Fault: Sendable {
        case none
        /// The connection drops before the push reaches the server.
        case failBeforePush
        /// The server commits the push but the response is lost (or the client is killed before it records it).
        case dropPushResponse
        /// The push is delivered twice (a proxy retry); the client sees the second answer.
        case duplicatePush
        /// The pull dies after this many pages (a kill mid-pull).
        case failDuringPull(afterPages: Int)
    }

    struct Injected: Error {}
    let server: SQLiteStore
    let member: Member
    let clock: SimClock
    let fault = Mutex<Fault>(.none)

    init(server: SQLiteStore, member: Member, clock: SimClock) {
        self.server = server
        self.member = member
        self.clock = clock
    }

    func push(_ request: PushRequest, token: String) async throws -> PushResponse {
        switch fault.withLock({ $0 }) {
        case .failBeforePush:
            throw Injected()
        case .dropPushResponse:
            _ = try await server.push(request, by: member, now: clock.read())
            throw Injected()
        case .duplicatePush:
            _ = try await server.push(request, by: member, now: clock.read())
            return try await server.push(request, by: member, now: clock.read())
        default:
            return try await server.push(request, by: member, now: clock.read())
        }
    }

    func pull(since: Int64, limit: Int, token: String) async throws -> PullResponse {
        let fail = fault.withLock { fault -> Bool in
            guard case .failDuringPull(let pages) = fault else { return false }
            if pages <= 0 { return true }
            fault = .failDuringPull(afterPages: pages - 1)
            return false
        }
        if fail { throw Injected() }
        return try await server.pull(for: member, since: since, limit: limit)
    }
}

/// One device of one member.
final class Replica {
    let index: Int
    let member: Member
    let store: ClientStore
    let transport: SimTransport
    let skew: SkewBox
    var online = true

    init(index: Int, member: Member, store: ClientStore, transport: SimTransport, skew: SkewBox) {
        self.index = index
        self.member = member
        self.store = store
        self.transport = transport
        self.skew = skew
    }
}

final class Simulation: @unchecked Sendable {
    let seed: UInt64
    var rng: SeededGenerator
    let directory: URL
    let server: SQLiteStore
    let clock = SimClock()
    var members: [Member] = []
    var replicas: [Replica] = []
    /// Marker → (replica that wrote it, record it was written into).
    var markers: [String: (replica: Int, record: UUID)] = [:]
    /// (replica, record) pairs whose own markers the author deliberately deleted.
    var exempt: Set<String> = []
    var counter = 0
    var syncs = 0
    var faults = 0

    init(seed: UInt64) throws {
        self.seed = seed
        rng = SeededGenerator(seed: seed)
        directory = TemporaryDirectory.make(prefix: "sim-\(seed)")
        server = try SQLiteStore(path: directory.appendingPathComponent("server.sqlite").path, durable: false)
        let memberCount = Int.random(in: 1...3, using: &rng)
        let replicaCount = Int.random(in: max(2, memberCount)...8, using: &rng)
        for m in 0..<memberCount {
            let member = Member(id: UUID(), handle: "member\(m)", displayName: "Member \(m)")
            members.append(member)
        }
        for r in 0..<replicaCount {
            let member = members[r < memberCount ? r : Int.random(in: 0..<memberCount, using: &rng)]
            let replicaClock = clock
            let skewBox = SkewBox(Int64.random(in: -5...5, using: &rng) * 86_400_000)
            let store = try ClientStore.open(
                home: directory.appendingPathComponent("replica\(r)"),
                clock: WallClock { replicaClock.read() + skewBox.value }, durable: false)
            try store.initialize(serverURL: "https://sim.invalid", trust: .caFile("/dev/null"))
            try store.saveSession(token: "sim", member: member)
            replicas.append(
                Replica(
                    index: r, member: member, store: store,
                    transport: SimTransport(server: server, member: member, clock: clock), skew: skewBox))
        }
    }

    func close() {
        for replica in replicas { try? replica.store.close() }
        try? server.close()
        try? FileManager.default.removeItem(at: directory)
    }

    func marker(_ replica: Replica, _ record: UUID) -> String {
        counter += 1
        let text = "⟦r\(replica.index)m\(counter)⟧"
        markers[text] = (replica.index, record)
        return text
    }

    func run() async throws {
        for member in members {
            try await server.createMember(member, passwordHash: "x", now: clock.read())
        }
        let steps = Int.random(in: 20...40, using: &rng)
        for _ in 0..<steps {
            clock.advance(Int64.random(in: 1...60_000, using: &rng))
            let replica = replicas.randomElement(using: &rng)!
            try await step(replica)
        }
        // Quiescence: everyone online, no faults, a few rounds of syncs.
        for replica in replicas {
            replica.online = true
            replica.transport.fault.withLock { $0 = .none }
        }
        for _ in 0..<3 {
            for replica in replicas { try await SyncEngine(store: replica.store, transport: replica.transport).sync() }
        }
    }

    func ownReflections(_ replica: Replica) throws -> [LocalReflection] {
        try replica.store.reflections(mine: true)
    }

    func step(_ replica: Replica) async throws {
        let roll = Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<15:
            let id = UUID()
            let text = "Seed text \(marker(replica, id)).\n\nSecond paragraph.\n"
            _ = try replica.store.write(
                title: "Reflection \(counter)", body: text,
                visibility: Bool.random(using: &rng) ? .community : .private, promptID: 1, id: id)
        case 15..<40:
            guard let target = try ownReflections(replica).randomElement(using: &rng) else { return }
            var words = target.reflection.body.components(separatedBy: " ")
            let position = Int.random(in: 0...words.count, using: &rng)
            words.insert(marker(replica, target.reflection.id), at: position)
            var body = words.joined(separator: " ")
            if Int.random(in: 0..<4, using: &rng) == 0 {
                body += "\n\nA new paragraph \(marker(replica, target.reflection.id)).\n"
            }
            _ = try? replica.store.edit(id: target.reflection.id, body: body)
        case 40..<47:
            guard let target = try ownReflections(replica).randomElement(using: &rng) else { return }
            let flipped: Visibility = target.reflection.visibility == .private ? .community : .private
            _ = try? replica.store.edit(id: target.reflection.id, visibility: flipped)
        case 47..<51:
            guard let target = try ownReflections(replica).randomElement(using: &rng) else { return }
            exempt.insert("\(replica.index)/\(target.reflection.id)")
            try? replica.store.delete(.reflection, id: target.reflection.id)
        case 51..<63:
            let visible = try replica.store.reflections().filter { $0.reflection.visibility == .community }
            guard let target = visible.randomElement(using: &rng) else { return }
            let id = UUID()
            _ = try? replica.store.comment(on: target.reflection.id, body: "Comment \(marker(replica, id))", id: id)
        case 63..<70:
            replica.online.toggle()
        case 70..<73:
            // The device's clock jumps, by up to three days either way.
            replica.skew.add(Int64.random(in: -3...3, using: &rng) * 86_400_000)
        default:
            guard replica.online else { return }
            let fault: SimTransport.Fault
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: fault = .failBeforePush
            case 1: fault = .dropPushResponse
            case 2: fault = .duplicatePush
            case 3: fault = .failDuringPull(afterPages: Int.random(in: 0...2, using: &rng))
            default: fault = .none
            }
            replica.transport.fault.withLock { $0 = fault }
            syncs += 1
            if case .none = fault {} else { faults += 1 }
            let pageSize = Int.random(in: 1...5, using: &rng)
            do {
                try await SyncEngine(
                    store: replica.store, transport: replica.transport, batchSize: 3, pageSize: pageSize
                ).sync()
            } catch is SimTransport.Injected {
                // A failed or killed sync: the next one must make up for it.
            }
            replica.transport.fault.withLock { $0 = .none }
        }
    }

    /// The invariants; an empty list when they all hold.
    func check() async throws -> [String] {
        var problems: [String] = []
        // 1. Every replica equals what the server says its member may see, with nothing left pending.
        for replica in replicas {
            let status = try replica.store.status()
            if status.pendingMutations != 0 {
                problems.append("replica \(replica.index) has \(status.pendingMutations) pending")
            }
            var serverView: [UUID: String] = [:]
            var cursor: Int64 = 0
            while true {
                let page = try await server.pull(for: replica.member, since: cursor, limit: 1000)
                for change in page.changes where change.kind == .upsert {
                    if let r = change.reflection { serverView[r.id] = Self.describe(r.fields) }
                    if let c = change.comment { serverView[c.id] = Self.describe(c.fields) }
                }
                cursor = page.nextCursor
                if !page.hasMore { break }
            }
            var local: [UUID: String] = [:]
            for item in try replica.store.reflections() {
                local[item.reflection.id] = Self.describe(item.reflection.fields)
            }
            for comment in try replica.store.comments() {
                local[comment.comment.id] = Self.describe(comment.comment.fields)
            }
            for (id, text) in serverView where local[id] != text {
                problems.append("replica \(replica.index) differs from the server on \(id): \(local[id] ?? "missing")")
            }
            // A change the server rejected stays on its device, with its text, until the member deals with it.
            let keptRejected = Set(try replica.store.outbox().filter { $0.state == "rejected" }.map(\.recordID))
            for id in local.keys where serverView[id] == nil && !keptRejected.contains(id) {
                let raw = try await server.pool.read { db in
                    try Row.fetchOne(db, sql: "SELECT * FROM reflections WHERE id = ?", arguments: [id.uuidString])?
                        .description
                        ?? Row.fetchOne(
                            db,
                            sql:
                                "SELECT c.*, r.visibility AS pv, r.deleted AS pd, r.author_id AS pa FROM comments c JOIN reflections r ON r.id = c.reflection_id WHERE c.id = ?",
                            arguments: [id.uuidString])?.description
                        ?? "absent"
                }
                problems.append(
                    "replica \(replica.index) (member \(replica.member.handle)) holds \(id) [\(local[id] ?? "")], which its member may not see; server: \(raw)"
                )
            }
        }
        // 2. Nothing applied twice.
        let doubles = try await server.pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM (SELECT mutation_id FROM change_log WHERE operation != 'cascade'
                    GROUP BY mutation_id, record_id HAVING COUNT(*) > 1)
                    """) ?? 0
        }
        if doubles > 0 { problems.append("\(doubles) mutation(s) applied twice") }
        // 3. Every edit survives somewhere.
        let kept = try await server.pool.read { db -> String in
            let rows =
                try String.fetchAll(db, sql: "SELECT title || ' ' || body FROM reflections")
                + String.fetchAll(db, sql: "SELECT body FROM comments")
                + String.fetchAll(db, sql: "SELECT fields FROM conflict_revisions")
            return rows.joined(separator: "\n")
        }
        var rejected: [Int: String] = [:]
        for replica in replicas {
            rejected[replica.index] = try replica.store.outbox().filter { $0.state == "rejected" }.compactMap(\.text)
                .joined(separator: "\n")
        }
        for (text, origin) in markers where !exempt.contains("\(origin.replica)/\(origin.record)") {
            let escaped = String(data: try JSONEncoder().encode(text), encoding: .utf8)!.dropFirst().dropLast()
            if !kept.contains(text) && !kept.contains(escaped) && !(rejected[origin.replica] ?? "").contains(text) {
                problems.append("the edit \(text) of replica \(origin.replica) on \(origin.record) is lost")
            }
        }
        return problems
    }

    static func describe(_ fields: RecordFields) -> String {
        "\(fields.title ?? "")|\(fields.body)|\(fields.visibility?.rawValue ?? "")|\(fields.deleted)|\(fields.hidden ?? false)"
    }
}

/// A replica's clock skew, readable from its `WallClock` closure.
final class SkewBox: Sendable {
    private let mutex: Mutex<Int64>
    init(_ skew: Int64) { mutex = Mutex(skew) }
    var value: Int64 { mutex.withLock { $0 } }
    func add(_ millis: Int64) { mutex.withLock { $0 += millis } }
}
