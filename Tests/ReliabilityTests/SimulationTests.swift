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
/// The oracles are the test's own (``SimulationHistory``), not the server's answers:
/// - **Leaked**: after every sync, no device holds another member's reflection that its author never shared, a
///   comment on one, a hidden comment of another, another's tombstone details or another's conflict revision;
///   at the end, a device holds another member's reflection (or a comment on it) only if the author's own
///   devices show it shared, and then with the author's text.
/// - **Lost**: every edit is kept where its author can see it — live in the record it was written to, in an open
///   conflict revision of that record on one of their devices, or in a rejected change whose code the rules
///   allow for that edit (counted by code) — unless a device of its author deleted that record while showing
///   that very edit (an edit the deleting device never saw is never excused).
/// - **Diverged**: every device equals what the server lets its member see, with nothing left pending.
/// - **Duplicated**: nothing applied twice.
/// Faults are counted when they fire. `REFLECT_SIM_SEEDS=N` runs N seeds (default 1,000); `REFLECT_SIM_SEED=S`
/// replays one.
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
                "seeds": t.seeds, "replicas": t.replicas, "syncs": t.syncs, "faults_fired": t.faults,
                "compactions": t.compactions, "tombstones_compacted": t.compactedTombstones,
                "edits_checked": t.edits, "edits_exempt_deleted": t.exempt, "edits_in_revisions": t.inRevisions,
                "edits_rejected_kept": t.rejectedKept, "comments_hidden_with_reflection": t.hiddenWithReflection,
                "edits_kept_as_new_after_compaction": t.keptAsNew,
                "lost": t.lost, "duplicated": t.duplicated, "leaked": t.leaked, "diverged": t.diverged,
                "failed_seeds": t.failedSeeds,
            ].merging(t.rejections.map { ("rejected_\($0.key)", $0.value) }, uniquingKeysWith: +))
        #expect(t.seeds == Self.seeds.count)
        #expect(t.edits > 0)
        if Self.seeds.count >= 100 { #expect(t.compactedTombstones > 0) }
    }
}

/// What all seeds of a run did and found.
struct SimulationTotals: Sendable {
    var seeds = 0
    var replicas = 0
    var syncs = 0
    var compactions = 0
    var compactedTombstones = 0
    var faults = 0
    var edits = 0
    var exempt = 0
    var inRevisions = 0
    var rejectedKept = 0
    var hiddenWithReflection = 0
    var keptAsNew = 0
    var rejections: [String: Int] = [:]
    var lost = 0
    var duplicated = 0
    var leaked = 0
    var diverged = 0
    var failedSeeds = 0

    mutating func add(_ simulation: Simulation, problems: [String]) {
        seeds += 1
        replicas += simulation.replicas.count
        syncs += simulation.syncs
        compactions += simulation.compactions
        compactedTombstones += simulation.compactedTombstones
        faults += simulation.transports.map { $0.fired.withLock { $0 } }.reduce(0, +)
        edits += simulation.figures.checked
        exempt += simulation.figures.exempt
        inRevisions += simulation.figures.inRevisions
        rejectedKept += simulation.figures.rejectedKept
        hiddenWithReflection += simulation.figures.hiddenWithReflection
        keptAsNew += simulation.figures.keptAsNew
        rejections.merge(simulation.figures.rejections, uniquingKeysWith: +)
        lost += problems.filter { $0.contains("is lost") }.count
        duplicated += problems.filter { $0.contains("applied twice") }.count
        leaked += problems.filter { $0.contains("leak:") }.count
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
    /// Faults that really happened (a fault armed for a sync that pushes nothing does not fire).
    let fired = Mutex<Int>(0)

    init(server: SQLiteStore, member: Member, clock: SimClock) {
        self.server = server
        self.member = member
        self.clock = clock
    }

    /// A server refusal as the HTTPS client reports it (a `ClientError` with the server's code).
    func asClient<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ServerError {
            throw ClientError(.server, error.message, status: Int(error.status.code), serverCode: error.code)
        }
    }

    func push(_ request: PushRequest, token: String) async throws -> PushResponse {
        try await asClient { try await pushAsServer(request) }
    }

    func pushAsServer(_ request: PushRequest) async throws -> PushResponse {
        switch fault.withLock({ $0 }) {
        case .failBeforePush:
            fired.withLock { $0 += 1 }
            throw Injected()
        case .dropPushResponse:
            fired.withLock { $0 += 1 }
            _ = try await server.push(request, by: member, now: clock.read())
            throw Injected()
        case .duplicatePush:
            fired.withLock { $0 += 1 }
            _ = try await server.push(request, by: member, now: clock.read())
            return try await server.push(request, by: member, now: clock.read())
        default:
            return try await server.push(request, by: member, now: clock.read())
        }
    }

    func pull(since: Int64, limit: Int, token: String, epoch: String?, fullDownload: DownloadFromZero?) async throws
        -> PullResponse
    {
        let fail = fault.withLock { fault -> Bool in
            guard case .failDuringPull(let pages) = fault else { return false }
            if pages <= 0 { return true }
            fault = .failDuringPull(afterPages: pages - 1)
            return false
        }
        if fail {
            fired.withLock { $0 += 1 }
            throw Injected()
        }
        return try await asClient {
            try await server.pull(
                for: member, since: since, limit: limit, fullDownload: fullDownload != nil,
                downloadHorizon: fullDownload?.horizon)
        }
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
    /// The test's own record of who wrote what (the oracles' ground truth).
    var history = SimulationHistory()
    /// Leaks seen right after a sync (the final check adds its own).
    var leaksDuringRun: [String] = []
    var counter = 0
    var syncs = 0
    var compactions = 0
    var compactedTombstones = 0
    var figures = Figures()
    var transports: [SimTransport] { replicas.map(\.transport) }

    /// What the final check counted.
    struct Figures {
        var checked = 0
        var exempt = 0
        var inRevisions = 0
        var rejectedKept = 0
        var hiddenWithReflection = 0
        var keptAsNew = 0
        var rejections: [String: Int] = [:]
    }

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

    func memberIndex(_ replica: Replica) -> Int { members.firstIndex(of: replica.member)! }

    func snapshot(_ replica: Replica) throws -> DeviceSnapshot {
        try DeviceSnapshot.read(
            path: directory.appendingPathComponent("replica\(replica.index)/reflect.sqlite").path)
    }

    /// A new unique marker; it enters the history only once the write that carries it succeeded.
    func newMarker(_ replica: Replica) -> String {
        counter += 1
        return "⟦r\(replica.index)m\(counter)⟧"
    }

    func remember(_ markers: [String], _ replica: Replica, record: UUID, entity: EntityKind) {
        for text in markers {
            history.markers[text] = .init(
                replica: replica.index, member: memberIndex(replica), record: record, entity: entity)
        }
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
            for replica in replicas {
                try await SyncEngine(store: replica.store, transport: replica.transport).sync()
                try checkLeaksAfterSync(replica)
            }
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
            let marker = newMarker(replica)
            let text = "Seed text \(marker).\n\nSecond paragraph.\n"
            let visibility: Visibility = Bool.random(using: &rng) ? .community : .private
            _ = try replica.store.write(
                title: "Reflection \(counter)", body: text, visibility: visibility, promptID: 1, id: id)
            history.author[id] = memberIndex(replica)
            history.entity[id] = .reflection
            if visibility == .community { history.everShared.insert(id) }
            remember([marker], replica, record: id, entity: .reflection)
        case 15..<40:
            guard let target = try ownReflections(replica).randomElement(using: &rng) else { return }
            var words = target.reflection.body.components(separatedBy: " ")
            let position = Int.random(in: 0...words.count, using: &rng)
            var written = [newMarker(replica)]
            words.insert(written[0], at: position)
            var body = words.joined(separator: " ")
            if Int.random(in: 0..<4, using: &rng) == 0 {
                written.append(newMarker(replica))
                body += "\n\nA new paragraph \(written[1]).\n"
            }
            if (try? replica.store.edit(id: target.reflection.id, body: body)) != nil {
                remember(written, replica, record: target.reflection.id, entity: .reflection)
            }
        case 40..<47:
            guard let target = try ownReflections(replica).randomElement(using: &rng) else { return }
            let flipped: Visibility = target.reflection.visibility == .private ? .community : .private
            if (try? replica.store.edit(id: target.reflection.id, visibility: flipped)) != nil, flipped == .community {
                history.everShared.insert(target.reflection.id)
            }
        case 47..<51:
            guard let target = try ownReflections(replica).randomElement(using: &rng) else { return }
            if (try? replica.store.delete(.reflection, id: target.reflection.id)) != nil {
                history.deletedText[target.reflection.id, default: ""] +=
                    target.reflection.title + "\n" + target.reflection.body + "\n"
            }
        case 51..<63:
            let visible = try replica.store.reflections().filter { $0.reflection.visibility == .community }
            guard let target = visible.randomElement(using: &rng) else { return }
            let id = UUID()
            let marker = newMarker(replica)
            if (try? replica.store.comment(on: target.reflection.id, body: "Comment \(marker)", id: id)) != nil {
                history.author[id] = memberIndex(replica)
                history.entity[id] = .comment
                history.parent[id] = target.reflection.id
                remember([marker], replica, record: id, entity: .comment)
            }
        case 63..<70:
            replica.online.toggle()
        case 70..<73:
            // The device's clock jumps, by up to three days either way.
            replica.skew.add(Int64.random(in: -3...3, using: &rng) * 86_400_000)
        case 73..<76:
            // The server compacts everything deleted so far; devices offline across it must resync.
            let report = try await server.compact(keepDays: 0, now: clock.read() + 1)
            compactions += 1
            compactedTombstones += report.tombstones
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
            let pageSize = Int.random(in: 1...5, using: &rng)
            do {
                try await SyncEngine(
                    store: replica.store, transport: replica.transport, batchSize: 3, pageSize: pageSize
                ).sync()
            } catch is SimTransport.Injected {
                // A failed or killed sync: the next one must make up for it.
            }
            replica.transport.fault.withLock { $0 = .none }
            try checkLeaksAfterSync(replica)
        }
    }

    // MARK: Oracles

    /// Right after a sync, from the history alone: nothing on this device that its member may never see.
    func checkLeaksAfterSync(_ replica: Replica) throws {
        let me = replica.member.id
        let device = try snapshot(replica)
        func leak(_ text: String) {
            leaksDuringRun.append("leak: replica \(replica.index) (\(replica.member.handle)) \(text)")
        }
        for record in device.records.values {
            guard let author = record.authorID, author != me else { continue }
            switch record.entity {
            case .reflection:
                if !history.everShared.contains(record.id) { leak("holds \(record.id), never shared by its author") }
            case .comment:
                if let parent = record.reflectionID, !history.everShared.contains(parent),
                    history.author[parent].map({ members[$0].id }) != me
                {
                    leak("holds comment \(record.id) on \(parent), never shared by its author")
                }
                if record.hidden { leak("holds another's hidden comment \(record.id)") }
            }
            if record.deleted { leak("keeps the details of another's deleted \(record.entity.rawValue) \(record.id)") }
        }
        for revision in device.revisions {
            let author = history.author[revision.recordID].map { members[$0].id }
            if author != me || history.entity[revision.recordID]?.rawValue != revision.entity {
                leak("holds a conflict revision of \(revision.entity) \(revision.recordID), not its author's record")
            }
        }
    }

    /// The invariants; an empty list when they all hold.
    func check() async throws -> [String] {
        var problems = leaksDuringRun
        var devices: [Int: DeviceSnapshot] = [:]
        for replica in replicas { devices[replica.index] = try snapshot(replica) }
        func devicesOf(_ member: Int) -> [Replica] { replicas.filter { $0.member.id == members[member].id } }

        // The author's truth, from the author's own devices (which must agree).
        var truth: [UUID: DeviceSnapshot.Record?] = [:]
        for (id, author) in history.author where history.entity[id] == .reflection {
            let copies = devicesOf(author).map { devices[$0.index]!.records[id] }
            // A deleted record and an absent one are the same to a member: compaction removes tombstones from the
            // server, and a device that held the tombstone before keeps it.
            let shown = copies.map { copy in
                copy.flatMap { $0.deleted ? nil : "\($0.title)|\($0.body)|\($0.visibility ?? "")" } ?? "absent"
            }
            if Set(shown).count > 1 { problems.append("the author's devices differ on \(id): \(Set(shown))") }
            truth[id] = copies.first ?? nil
        }
        func shared(_ id: UUID) -> Bool {
            guard let record = truth[id] ?? nil else { return false }
            return record.visibility == "community" && !record.deleted
        }

        // 1. Leaks at the end, against the authors' devices.
        for replica in replicas {
            let me = replica.member.id
            for record in devices[replica.index]!.records.values where !record.deleted {
                guard let author = history.author[record.id], members[author].id != me else { continue }
                switch record.entity {
                case .reflection:
                    if !shared(record.id) {
                        problems.append(
                            "leak: replica \(replica.index) holds \(record.id), which its author does not share")
                    } else if let truth = truth[record.id] ?? nil,
                        truth.title != record.title || truth.body != record.body
                    {
                        problems.append("replica \(replica.index) differs from the author's text of \(record.id)")
                    }
                case .comment:
                    guard let parent = history.parent[record.id] else { continue }
                    let parentAuthor = history.author[parent].map { members[$0].id }
                    if !shared(parent) && parentAuthor != me {
                        problems.append(
                            "leak: replica \(replica.index) holds comment \(record.id) on an unshared reflection")
                    }
                }
            }
        }

        // 2. Every replica equals what the server lets its member see, with nothing left pending.
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
            let keptRejected = Set(devices[replica.index]!.rejected.map(\.recordID))
            // A comment under a reflection this device holds as deleted is gone to the member as well (after a
            // compaction the server no longer has either).
            let device = devices[replica.index]!
            func underDeleted(_ id: UUID) -> Bool {
                guard let parent = device.records[id]?.reflectionID else { return false }
                return device.records[parent]?.deleted ?? true
            }
            for id in local.keys where serverView[id] == nil && !keptRejected.contains(id) && !underDeleted(id) {
                problems.append("replica \(replica.index) holds \(id), which the server does not give it (pending)")
            }
        }

        // 3. Nothing applied twice.
        let doubles = try await server.pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM (SELECT mutation_id FROM change_log WHERE operation != 'cascade'
                    GROUP BY mutation_id, record_id HAVING COUNT(*) > 1)
                    """) ?? 0
        }
        if doubles > 0 { problems.append("\(doubles) mutation(s) applied twice") }

        // 4. Every edit is kept where its author can see it.
        for device in devices.values {
            for rejected in device.rejected { figures.rejections[rejected.code, default: 0] += 1 }
        }
        for (text, marker) in history.markers.sorted(by: { $0.key < $1.key }) {
            let record = marker.record
            let reflection = marker.entity == .reflection ? record : history.parent[record]!
            figures.checked += 1
            let mine = devicesOf(marker.member).map { devices[$0.index]! }
            if mine.contains(where: { device in
                device.records[record].map { !$0.deleted && ($0.title + "\n" + $0.body).contains(text) } ?? false
            }) {
                continue
            }
            if mine.contains(where: { device in
                device.revisions.contains {
                    $0.recordID == record && $0.entity == marker.entity.rawValue
                        && DeviceSnapshot.contains($0.json, text)
                }
            }) {
                figures.inRevisions += 1
                continue
            }
            // Edited on a device after another deleted it and the server compacted it: kept under a new id.
            if mine.contains(where: { device in
                device.records.values.contains { !$0.deleted && ($0.title + "\n" + $0.body).contains(text) }
            }) {
                figures.keptAsNew += 1
                continue
            }
            let allowed: Set<String> =
                marker.entity == .comment ? ["not_found", "not_community"] : ["too_many_conflicts", "open_conflicts"]
            if let kept = mine.lazy.flatMap(\.rejected).first(where: {
                $0.recordID == record && DeviceSnapshot.contains($0.mutationJSON, text)
            }) {
                if allowed.contains(kept.code) {
                    figures.rejectedKept += 1
                    continue
                }
                problems.append(
                    "the edit \(text) of replica \(marker.replica) on \(record) is lost: rejected as \(kept.code)")
                continue
            }
            // A comment on a reflection its author made private (or deleted) leaves its writer's sight with it;
            // it is kept on the server and returns if the reflection is shared again.
            if marker.entity == .comment, !shared(reflection) {
                let stored = try await server.pool.read { db in
                    try String.fetchOne(
                        db, sql: "SELECT body FROM comments WHERE id = ?", arguments: [record.uuidString])
                }
                if stored?.contains(text) == true {
                    figures.hiddenWithReflection += 1
                    continue
                }
            }
            // Deleted knowingly: a device of its author deleted the record while showing this edit.
            if history.deletedText[record]?.contains(text) == true {
                figures.checked -= 1
                figures.exempt += 1
                continue
            }
            if ProcessInfo.processInfo.environment["REFLECT_SIM_DEBUG"] != nil {
                for (index, device) in devices.sorted(by: { $0.key < $1.key }) {
                    print(
                        "DEBUG device \(index) member \(replicas[index].member.handle): \(String(describing: device.records[record])) revisions \(device.revisions.filter { $0.recordID == record }.map(\.json)) rejected \(device.rejected.filter { $0.recordID == record }.map(\.code))"
                    )
                }
                let dump = try await server.pool.read { db in
                    (try Row.fetchAll(
                        db, sql: "SELECT * FROM conflict_revisions WHERE record_id = ?", arguments: [record.uuidString]
                    ).map(\.description)
                        + Row.fetchAll(
                            db,
                            sql:
                                "SELECT version, fields, producer_client_id, fast_forward FROM record_versions WHERE record_id = ?",
                            arguments: [record.uuidString]
                        ).map(\.description)
                        + Row.fetchAll(
                            db, sql: "SELECT * FROM change_log WHERE record_id = ?", arguments: [record.uuidString]
                        ).map(\.description)
                        + Row.fetchAll(db, sql: "SELECT * FROM applied_mutations", arguments: []).map(\.description))
                        .joined(separator: "\n")
                }
                print("DEBUG server:\n\(dump)")
            }
            problems.append(
                "the edit \(text) of replica \(marker.replica) on \(marker.entity.rawValue) \(record) is lost")
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
