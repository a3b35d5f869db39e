import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@testable import ReflectionsServer

/// Seeded random multi-member histories against the real storage rules (SQLite): crafted ids across entities,
/// stale bases, moderator actions, visibility flips, deletes, resolves naming anyone's revisions, and crafted
/// cursors. After every step, each member's pull, log page and push answer is checked twice:
///
/// 1. **Against the rule**: the pull equals ``Access/pullKind(of:to:since:)`` applied to every row of the
///    database — so the SQL that narrows the candidates (``Access/candidateSQL``) drops nothing the rule allows,
///    and paging loses nothing.
/// 2. **Against the promise, without the rule**: read straight from the rows, no change carries the content of a
///    reflection that is not shared (unless the viewer wrote it), of a comment on one, or of a hidden comment;
///    revisions reach only their record's author and only their own record; a record that left sight carries
///    its entity and id alone; a record never shared is never named to anyone but its author; log entries are
///    the viewer's own; and a change to a record the sender cannot see is answered exactly as for a missing id.
///
/// `REFLECT_PRIVACY_HISTORIES` (default 1,000) sets the count; `REFLECT_PRIVACY_SEED` replays one history.
@Suite struct PrivacyPropertyTests {
    static var seeds: [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let seed = environment["REFLECT_PRIVACY_SEED"].flatMap(UInt64.init) { return [seed] }
        let count = environment["REFLECT_PRIVACY_HISTORIES"].flatMap(Int.init) ?? 1000
        return (0..<UInt64(count)).map { $0 &* 7919 &+ 11 }
    }

    /// What the checks found, over all histories.
    struct Tally: Sendable {
        var histories = 0
        var steps = 0
        var pulls = 0
        var changesChecked = 0
        var rejectedByCode: [String: Int] = [:]
        var failures: [String] = []

        mutating func add(_ other: Tally) {
            histories += other.histories
            steps += other.steps
            pulls += other.pulls
            changesChecked += other.changesChecked
            rejectedByCode.merge(other.rejectedByCode, uniquingKeysWith: +)
            failures += other.failures
        }
    }

    @Test func everyPullLogAndPushAnswerIsWhatThePrivacyRuleAllows() async throws {
        let seeds = Self.seeds
        // Two workers (the machine has two cores), each with its own databases.
        let tallies = try await withThrowingTaskGroup(of: Tally.self) { group in
            for worker in 0..<2 {
                let mine = seeds.enumerated().filter { $0.offset % 2 == worker }.map(\.element)
                group.addTask {
                    var tally = Tally()
                    for seed in mine {
                        var history = History(seed: seed)
                        try await history.run(into: &tally)
                        if tally.failures.count > 5 { break }
                    }
                    return tally
                }
            }
            var total = Tally()
            for try await tally in group { total.add(tally) }
            return total
        }
        let failures = tallies.failures
        let codes = tallies.rejectedByCode
        let byCode = codes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print(
            "reliability: privacy property {\"histories\":\(tallies.histories),\"steps\":\(tallies.steps),"
                + "\"pulls\":\(tallies.pulls),\"changes_checked\":\(tallies.changesChecked),"
                + "\"failures\":\(failures.count)} rejections by code: \(byCode)")
        #expect(tallies.histories == seeds.count)
        #expect(failures.isEmpty, "\(failures.prefix(5).joined(separator: "\n"))")
        // The generator reaches the cases it exists for.
        for code in ["already_exists", "not_found", "forbidden", "deleted"] {
            #expect(codes[code, default: 0] > 0, "no '\(code)' rejection was generated")
        }
    }
}

/// One seeded history over a fresh database.
struct History {
    let seed: UInt64
    var random: SeededGenerator

    init(seed: UInt64) {
        self.seed = seed
        random = SeededGenerator(seed: seed)
    }

    /// A UUID drawn from the seed, so that a history replays with the same ids.
    static func uuid(_ random: inout SeededGenerator) -> UUID {
        let a = random.next()
        let b = random.next()
        return UUID(
            uuid: (
                UInt8(truncatingIfNeeded: a), UInt8(truncatingIfNeeded: a >> 8), UInt8(truncatingIfNeeded: a >> 16),
                UInt8(truncatingIfNeeded: a >> 24), UInt8(truncatingIfNeeded: a >> 32),
                UInt8(truncatingIfNeeded: a >> 40), 0x40 | UInt8(truncatingIfNeeded: a >> 48) & 0x0F,
                UInt8(truncatingIfNeeded: a >> 56), 0x80 | UInt8(truncatingIfNeeded: b) & 0x3F,
                UInt8(truncatingIfNeeded: b >> 8), UInt8(truncatingIfNeeded: b >> 16),
                UInt8(truncatingIfNeeded: b >> 24), UInt8(truncatingIfNeeded: b >> 32),
                UInt8(truncatingIfNeeded: b >> 40), UInt8(truncatingIfNeeded: b >> 48),
                UInt8(truncatingIfNeeded: b >> 56)
            ))
    }

    mutating func device() -> MutationFactory { MutationFactory(clientID: Self.uuid(&random)) }

    struct Actor {
        var member: Member
        var devices: [MutationFactory]
    }

    mutating func run(into tally: inout PrivacyPropertyTests.Tally) async throws {
        try await StoreHarness.with(sqliteOnly: true) { h in
            var actors = [
                Actor(member: try await h.member("amara"), devices: [device(), device()]),
                Actor(member: try await h.member("bo.k"), devices: [device()]),
                Actor(member: try await h.member("mo.d", role: .moderator), devices: [device()]),
            ]
            var late: Actor?
            let steps = Int.random(in: 12...24, using: &random)
            for step in 0..<steps {
                if step == steps / 2 {
                    // A member who joins half-way, and tries crafted cursors.
                    let member = try await h.member("cy.late")
                    late = Actor(member: member, devices: [device()])
                    actors.append(late!)
                }
                let index = Int.random(in: 0..<actors.count, using: &random)
                let device = Int.random(in: 0..<actors[index].devices.count, using: &random)
                let rows = try await Rows.load(h)
                let mutation = makeMutation(rows: rows, actor: actors[index], device: &actors[index].devices[device])
                let results = try await h.push(
                    [mutation], by: actors[index].member, client: actors[index].devices[device].clientID)
                tally.steps += 1
                for result in results where result.outcome == .rejected {
                    tally.rejectedByCode[result.code ?? "?", default: 0] += 1
                }
                check(results.first, of: mutation, by: actors[index].member, before: rows, into: &tally)
                let viewer = actors[Int.random(in: 0..<actors.count, using: &random)].member
                try await checkPulls(h, viewer: viewer, into: &tally)
            }
            for actor in actors { try await checkPulls(h, viewer: actor.member, into: &tally) }
            _ = late
        }
        tally.histories += 1
    }

    // MARK: Generating

    mutating func makeMutation(rows: Rows, actor: Actor, device: inout MutationFactory) -> Mutation {
        let known = rows.all.map(\.id) + [Self.uuid(&random)]
        func pickID(_ random: inout SeededGenerator) -> UUID {
            Bool.random(using: &random) ? Self.uuid(&random) : known.randomElement(using: &random)!
        }
        let reflections = rows.all.filter { $0.entity == .reflection }
        let words = ["Listening.", "Allyship on the ward.", "Data shows the gap.", "We can change this."]
        switch Int.random(in: 0..<10, using: &random) {
        case 0, 1:
            return device.createReflection(
                id: Int.random(in: 0..<4, using: &random) == 0 ? pickID(&random) : Self.uuid(&random),
                title: words.randomElement(using: &random)!, body: words.randomElement(using: &random)! + "\n",
                visibility: Bool.random(using: &random) ? .community : .private)
        case 2:
            let parent = reflections.randomElement(using: &random)?.id ?? Self.uuid(&random)
            return device.createComment(
                id: Int.random(in: 0..<3, using: &random) == 0 ? pickID(&random) : Self.uuid(&random), on: parent,
                body: words.randomElement(using: &random)!)
        case 3, 4:
            guard let target = rows.all.randomElement(using: &random) else {
                return device.createReflection(id: Self.uuid(&random))
            }
            let base = Int64.random(in: 1...(target.version + 1), using: &random)
            let changes: FieldChanges
            switch target.entity {
            case .reflection:
                switch Int.random(in: 0..<3, using: &random) {
                case 0: changes = FieldChanges(visibility: Bool.random(using: &random) ? .community : .private)
                case 1: changes = FieldChanges(body: words.randomElement(using: &random)! + " Edited.\n")
                default: changes = FieldChanges(title: words.randomElement(using: &random)!)
                }
            case .comment:
                changes = FieldChanges(body: words.randomElement(using: &random)! + " (edited)")
            }
            // Sometimes aimed at the other entity with the same id.
            let entity: EntityKind =
                Int.random(in: 0..<5, using: &random) == 0
                ? (target.entity == .reflection ? .comment : .reflection)
                : target.entity
            return device.update(entity, target.id, base: base, changes: changes)
        case 5:
            guard let target = rows.all.randomElement(using: &random) else {
                return device.createReflection(id: Self.uuid(&random))
            }
            return device.delete(
                target.entity, target.id, base: Int64.random(in: 1...(target.version + 1), using: &random))
        case 6, 7:
            let comments = rows.all.filter { $0.entity == .comment }
            guard let target = comments.randomElement(using: &random) else {
                return device.createReflection(id: Self.uuid(&random))
            }
            return device.update(
                .comment, target.id, base: Int64.random(in: 1...target.version, using: &random),
                changes: FieldChanges(hidden: Bool.random(using: &random)))
        default:
            guard let target = rows.all.randomElement(using: &random) else {
                return device.createReflection(id: Self.uuid(&random))
            }
            // Anyone's revision ids, and of any record.
            let revisions = rows.revisions.map(\.id)
            let named = revisions.isEmpty ? [Self.uuid(&random)] : [revisions.randomElement(using: &random)!]
            let choice = Resolution.Choice.allCases.randomElement(using: &random)!
            return device.resolve(
                target.entity, target.id, base: target.version,
                resolution: Resolution(
                    choice: choice, revisionIDs: named, takenRevisionID: choice == .takeRevision ? named.first : nil),
                changes: choice == .merged && target.entity == .reflection
                    ? FieldChanges(body: "Merged by hand.\n") : FieldChanges())
        }
    }

    // MARK: Checking

    /// A change to a record the sender cannot see is answered exactly as for a missing id.
    func check(
        _ result: MutationResult?, of mutation: Mutation, by member: Member, before rows: Rows,
        into tally: inout PrivacyPropertyTests.Tally
    ) {
        guard let result else { return tally.failures.append("seed \(seed): no result") }
        guard mutation.operation != .create,
            let row = rows.row(mutation.target.entity, mutation.target.id)
        else { return }
        // Straight from the row: can the sender see it?
        let visible: Bool
        switch row.entity {
        case .reflection:
            visible = row.authorID == member.id || row.shared
        case .comment:
            let parent = rows.row(.reflection, row.reflectionID!)!
            let parentVisible = parent.shared || parent.authorID == member.id
            visible = parentVisible && (!row.hidden || row.authorID == member.id)
        }
        let moderatingVisibleParent =
            member.role == .moderator && row.entity == .comment && mutation.changes.hidden != nil
            && (rows.row(.reflection, row.reflectionID!).map { $0.shared || $0.authorID == member.id } ?? false)
        if !visible && !moderatingVisibleParent && result.code != "not_found" {
            tally.failures.append(
                "seed \(seed): \(member.handle) changed an invisible \(row.entity.rawValue) and got \(result.code ?? result.outcome.rawValue)"
            )
        }
        if result.outcome != .rejected && row.authorID != member.id && !moderatingVisibleParent {
            tally.failures.append("seed \(seed): \(member.handle) changed another member's record")
        }
    }

    mutating func checkPulls(_ h: StoreHarness, viewer: Member, into tally: inout PrivacyPropertyTests.Tally)
        async throws
    {
        let rows = try await Rows.load(h)
        let head = try await h.head()
        var sinces: [Int64] = [0, head, max(0, head - 1)]
        if head > 0 { sinces.append(Int64.random(in: 0...head, using: &random)) }
        for since in sinces {
            // One page, against the rule with this cursor; then small pages, against the promise and bringing
            // every record of the single page. (Each page has its own cursor, so a page may name a record that
            // was shared before that cursor, by its id alone.)
            let (whole, _) = try await h.pull(viewer, since: since, limit: 1000)
            let (paged, _) = try await h.pull(viewer, since: since, limit: Int.random(in: 1...6, using: &random))
            tally.pulls += 2
            tally.changesChecked += whole.count + paged.count
            checkAgainstRule(whole, rows: rows, viewer: viewer, since: since, into: &tally)
            checkAgainstPromise(whole, rows: rows, viewer: viewer, into: &tally)
            checkAgainstPromise(paged, rows: rows, viewer: viewer, into: &tally)
            let records = { (changes: [Change]) in
                Set(
                    changes.filter { $0.reflection != nil || $0.comment != nil }.map {
                        "\($0.entity) \($0.id) \($0.kind)"
                    })
            }
            if records(whole) != records(paged) {
                tally.failures.append("seed \(seed): \(viewer.handle) since \(since): paging changed the records")
            }
        }
        let log = try await h.store.log(for: viewer, since: 0, limit: 1000)
        for entry in log.entries where rows.actor(ofLogEntry: entry.sequence) != viewer.id {
            tally.failures.append("seed \(seed): \(viewer.handle)'s log shows entry \(entry.sequence) of another")
        }
    }

    func checkAgainstRule(
        _ changes: [Change], rows: Rows, viewer: Member, since: Int64, into tally: inout PrivacyPropertyTests.Tally
    ) {
        struct Key: Hashable {
            var entity: EntityKind
            var id: UUID
            var kind: Change.Kind
            var carriesRecord: Bool
        }
        var expected: Set<Key> = []
        for row in rows.all where row.seq > since {
            guard let kind = Access.pullKind(of: row.subject(rows), to: Access.Viewer(viewer), since: since) else {
                continue
            }
            let redacted = kind == .removal || (kind == .tombstone && row.authorID != viewer.id)
            expected.insert(Key(entity: row.entity, id: row.id, kind: kind, carriesRecord: !redacted))
        }
        let actual = changes.map {
            Key(entity: $0.entity, id: $0.id, kind: $0.kind, carriesRecord: $0.reflection != nil || $0.comment != nil)
        }
        if Set(actual) != expected || actual.count != expected.count,
            ProcessInfo.processInfo.environment["REFLECT_PRIVACY_DEBUG"] != nil
        {
            print(
                "since \(since) \(viewer.handle): \(changes.map { "\($0.sequence) \($0.entity) \($0.id.uuidString.prefix(4)) \($0.kind)" })"
            )
            for row in rows.all {
                print(
                    "  row \(row.entity) \(row.id.uuidString.prefix(4)) seq \(row.seq) author \(row.authorID.uuidString.prefix(4)) shared \(row.firstSharedSeq ?? -1) hidden \(row.hidden) deleted \(row.deleted) vis \(row.visibility ?? "-") parent \(row.reflectionID?.uuidString.prefix(4) ?? "-")"
                )
            }
        }
        if Set(actual) != expected || actual.count != expected.count {
            tally.failures.append(
                "seed \(seed): \(viewer.handle) since \(since): pulled \(actual.count) \(Set(actual).subtracting(expected)), expected \(expected.count) \(expected.subtracting(actual))"
            )
        }
    }

    func checkAgainstPromise(
        _ changes: [Change], rows: Rows, viewer: Member, into tally: inout PrivacyPropertyTests.Tally
    ) {
        func fail(_ text: String) { tally.failures.append("seed \(seed): \(viewer.handle): \(text)") }
        for change in changes {
            guard let row = rows.row(change.entity, change.id) else {
                fail("a change of a record that does not exist")
                continue
            }
            let isAuthor = row.authorID == viewer.id
            if !isAuthor && row.firstSharedSeq == nil { fail("named a record never shared: \(row.id)") }
            if let revisions = change.revisions, !revisions.isEmpty {
                if !isAuthor { fail("received revisions of another's record") }
                for revision in revisions {
                    guard let kept = rows.revisions.first(where: { $0.id == revision.id }),
                        kept.entity == change.entity, kept.recordID == change.id, kept.authorID == viewer.id
                    else {
                        fail("received a revision of another record")
                        continue
                    }
                }
            }
            switch change.kind {
            case .removal, .tombstone:
                if !isAuthor && (change.reflection != nil || change.comment != nil) {
                    fail("a \(change.kind.rawValue) of another's record carries more than its id")
                }
                if change.kind == .removal && (change.reflection != nil || change.comment != nil) {
                    fail("a removal carries a record")
                }
            case .upsert:
                switch row.entity {
                case .reflection:
                    if !isAuthor && !row.shared { fail("content of an unshared reflection") }
                    if change.reflection?.body != row.body { fail("a reflection's content is not the stored one") }
                case .comment:
                    let parent = rows.row(.reflection, row.reflectionID!)!
                    if !(parent.shared || parent.authorID == viewer.id) { fail("a comment on a hidden reflection") }
                    if row.hidden && !isAuthor { fail("a hidden comment") }
                }
            }
        }
    }
}

/// Every record, revision and log entry, read straight from the database.
struct Rows: Sendable {
    struct Row: Sendable {
        var entity: EntityKind
        var id: UUID
        var authorID: UUID
        var reflectionID: UUID?
        var title: String?
        var body: String
        var visibility: String?
        var deleted: Bool
        var hidden: Bool
        var version: Int64
        var seq: Int64
        var firstSharedSeq: Int64?

        var shared: Bool { entity == .reflection && visibility == "community" && !deleted }

        func subject(_ rows: Rows) -> Access.Subject {
            let parent = reflectionID.flatMap { rows.row(.reflection, $0) }.map {
                Access.Parent(authorID: $0.authorID, shared: $0.shared)
            }
            return Access.Subject(
                entity: entity, authorID: authorID,
                fields: RecordFields(
                    title: title, body: body, visibility: visibility.flatMap(Visibility.init(rawValue:)),
                    deleted: deleted, hidden: entity == .comment ? hidden : nil),
                firstSharedSeq: firstSharedSeq, parent: parent)
        }
    }

    struct Revision: Sendable {
        var id: UUID
        var entity: EntityKind
        var recordID: UUID
        var authorID: UUID
    }

    var all: [Row]
    var revisions: [Revision]
    var logActors: [Int64: UUID]

    func row(_ entity: EntityKind, _ id: UUID) -> Row? { all.first { $0.entity == entity && $0.id == id } }
    func actor(ofLogEntry seq: Int64) -> UUID? { logActors[seq] }

    static func load(_ h: StoreHarness) async throws -> Rows {
        try await h.engine.read { tx in
            let reflections = try tx.fetchAll("SELECT * FROM reflections", []).map { r in
                Row(
                    entity: .reflection, id: r.uuid("id"), authorID: r.uuid("author_id"), reflectionID: nil,
                    title: r.text("title"), body: r.text("body"), visibility: r.text("visibility"),
                    deleted: r.bool("deleted"), hidden: false, version: r.integer("version"), seq: r.integer("seq"),
                    firstSharedSeq: r.optionalInteger("first_shared_seq"))
            }
            let comments = try tx.fetchAll("SELECT * FROM comments", []).map { r in
                Row(
                    entity: .comment, id: r.uuid("id"), authorID: r.uuid("author_id"),
                    reflectionID: r.uuid("reflection_id"), title: nil, body: r.text("body"), visibility: nil,
                    deleted: r.bool("deleted"), hidden: r.bool("hidden"), version: r.integer("version"),
                    seq: r.integer("seq"), firstSharedSeq: r.optionalInteger("first_shared_seq"))
            }
            let revisions = try tx.fetchAll(
                "SELECT id, entity, record_id, author_id FROM conflict_revisions WHERE resolved_at IS NULL", []
            ).map {
                Revision(
                    id: $0.uuid("id"), entity: EntityKind(rawValue: $0.text("entity"))!,
                    recordID: $0.uuid("record_id"), authorID: $0.uuid("author_id"))
            }
            var actors: [Int64: UUID] = [:]
            for entry in try tx.fetchAll("SELECT seq, member_id FROM change_log", []) {
                actors[entry.integer("seq")] = entry.uuid("member_id")
            }
            return Rows(all: reflections + comments, revisions: revisions, logActors: actors)
        }
    }
}
