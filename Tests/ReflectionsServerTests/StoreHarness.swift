import Foundation
import ReflectionsModel
import ReflectionsTestSupport

@testable import ReflectionsServer

/// A server store without HTTP, for tests of the storage rules: SQLite in a new folder, or a new PostgreSQL
/// database when `REFLECT_TEST_ENGINE=postgres` (as every server test).
struct StoreHarness {
    let store: any ServerStore
    let engine: any SQLEngine
    let folder: URL
    /// Milliseconds since 1970, advanced by every call that writes.
    let clock = LockedCounter(start: 1_800_000_000_000)

    static func open(sqliteOnly: Bool = false) async throws -> StoreHarness {
        let folder = TemporaryDirectory.make(prefix: "store")
        let database = sqliteOnly ? TestDatabase.sqlite : try await TestDatabase.fromEnvironment()
        let configuration = ServerConfiguration(dataDirectory: folder, database: database.url)
        let store = try await configuration.openStore()
        guard let engine = store as? any SQLEngine else { throw TestFailure("not an SQL store") }
        return StoreHarness(store: store, engine: engine, folder: folder)
    }

    /// Runs `body` with a fresh store and closes it afterwards.
    static func with<T>(sqliteOnly: Bool = false, _ body: (StoreHarness) async throws -> T) async throws -> T {
        let harness = try await open(sqliteOnly: sqliteOnly)
        do {
            let result = try await body(harness)
            try await harness.store.close()
            return result
        } catch {
            try? await harness.store.close()
            throw error
        }
    }

    func member(_ handle: String, role: Member.Role = .member) async throws -> Member {
        let member = Member(id: UUID(), handle: handle, displayName: handle, role: role)
        try await store.createMember(member, passwordHash: "not used", now: clock.next())
        return member
    }

    func push(_ mutations: [Mutation], by member: Member, client: UUID) async throws -> [MutationResult] {
        try await store.push(PushRequest(clientID: client, mutations: mutations), by: member, now: clock.next())
            .results
    }

    /// Pushes one mutation from `device` and returns its result.
    func push(_ mutation: Mutation, by member: Member, device: MutationFactory) async throws -> MutationResult {
        let results = try await push([mutation], by: member, client: device.clientID)
        guard let result = results.first else { throw TestFailure("no result") }
        return result
    }

    /// Every page after `since`, in small pages so that paging is exercised too.
    func pull(_ member: Member, since: Int64 = 0, limit: Int = 7) async throws -> (changes: [Change], cursor: Int64) {
        var cursor = since
        var changes: [Change] = []
        while true {
            let page = try await store.pull(for: member, since: cursor, limit: limit)
            changes += page.changes
            cursor = page.nextCursor
            if !page.hasMore { return (changes, cursor) }
        }
    }

    /// The newest sequence number of the change log.
    func head() async throws -> Int64 {
        try await engine.read { tx in
            try tx.fetchOne("SELECT MAX(seq) AS head FROM change_log")?.optionalInteger("head") ?? 0
        }
    }
}

/// A thread-safe counter (a fake clock).
final class LockedCounter: Sendable {
    private let value: LockedBox<Int64>

    init(start: Int64) {
        value = LockedBox(start)
    }

    func next() -> Int64 {
        value.update { value in
            value += 1
            return value
        }
    }
}
