import Foundation
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Testing

/// Compaction: old tombstones go, the horizon moves, and a device whose cursor is older is told to resync;
/// live records and the bases of pending edits stay.
@Suite struct CompactionTests {
    static let twoDays: Int64 = 2 * 86_400_000

    @Test func oldTombstonesGoAndOlderCursorsAreToldToResync() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let amara = try await client.member("amara")
                let bo = try await client.member("bo.k")
                var device = MutationFactory()
                var boDevice = MutationFactory()
                let (shared, secret, live) = (UUID(), UUID(), UUID())
                _ = try await client.push(
                    [
                        device.createReflection(id: shared, body: "Shared.\n", visibility: .community),
                        device.createReflection(id: secret, body: "Private.\n"),
                        device.createReflection(id: live, body: "Stays.\n", visibility: .community),
                    ], client: device.clientID, token: amara.token)
                _ = try await client.push(
                    [boDevice.createComment(on: shared, body: "Bo's comment.")], client: boDevice.clientID,
                    token: bo.token)
                let (_, boCursor) = try await client.pullAll(token: bo.token)
                _ = try await client.push(
                    [
                        device.delete(.reflection, shared, base: 1), device.delete(.reflection, secret, base: 1),
                        device.update(.reflection, live, base: 1, changes: FieldChanges(body: "Stays, edited.\n")),
                    ], client: device.clientID, token: amara.token)
                let head = try await server.store.head()

                // Nothing is old enough yet.
                let early = try await server.store.compact(keepDays: 1, now: WallClock.system.now())
                #expect(early.tombstones == 0 && early.horizon == 0)

                let report = try await server.store.compact(keepDays: 1, now: WallClock.system.now() + Self.twoDays)
                #expect(report.tombstones == 2)
                #expect(report.commentsOfTombstones == 1)
                #expect(report.horizon > boCursor && report.horizon <= head)
                #expect(report.ledger >= 4 && report.log >= 1)

                // Bo's cursor is older than the horizon: pull and push say so (410), and change nothing.
                let expired = try await client.send(.GET, "/v1/sync/pull?since=\(boCursor)", token: bo.token)
                #expect(expired.status == 410)
                #expect(expired.errorCode == "cursor_expired")
                let refused = try await client.send(
                    .POST, "/v1/sync/push",
                    json: PushRequest(
                        clientID: boDevice.clientID, mutations: [boDevice.createReflection()], cursor: boCursor),
                    token: bo.token)
                #expect(refused.status == 410)
                // A full download, or a cursor at the horizon, is served; only the live record is left.
                let (all, _) = try await client.pullAll(token: bo.token)
                #expect(all.map(\.id) == [live])
                #expect(
                    try await client.send(.GET, "/v1/sync/pull?since=\(report.horizon)", token: bo.token).status == 200)
                // The live record's first version is still a base: another device's edit from it merges.
                var phone = MutationFactory()
                let merged = try await client.push(
                    [phone.update(.reflection, live, base: 1, changes: FieldChanges(title: "A title"))],
                    client: phone.clientID, token: amara.token)
                #expect(merged.first?.outcome == .merged)
                // Compacting again finds nothing more.
                let again = try await server.store.compact(keepDays: 1, now: WallClock.system.now() + Self.twoDays)
                #expect(again.tombstones == 0 && again.horizon >= report.horizon)
            }
        }
    }

    /// Many batches, with rows that stay between the rows that go: each batch walks on from where the last one
    /// stopped, removes exactly what is older than the cutoff, and leaves every newer ledger entry working.
    @Test func batchesWalkPastTheRowsThatStay() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let amara = try await client.member("amara")
                var device = MutationFactory()
                let ids = (0..<600).map { _ in UUID() }
                for part in stride(from: 0, to: ids.count, by: 300) {
                    _ = try await client.push(
                        ids[part..<part + 300].map { device.createReflection(id: $0, visibility: .community) },
                        client: device.clientID, token: amara.token)
                }
                // Every other reflection deleted: 300 tombstones between 300 live records (two batches' worth).
                let doomed = ids.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                _ = try await client.push(
                    doomed.map { device.delete(.reflection, $0, base: 1) }, client: device.clientID, token: amara.token)
                try await Task.sleep(for: .milliseconds(5))
                let cutoff = WallClock.system.now()
                try await Task.sleep(for: .milliseconds(5))
                // Newer writes, from a second device (its ledger keys sort among the first device's).
                var phone = MutationFactory()
                let later = (0..<250).map { _ in phone.createReflection(visibility: .community) }
                _ = try await client.push(later, client: phone.clientID, token: amara.token)

                let report = try await server.store.compact(keepDays: 0, now: cutoff)
                #expect(report.tombstones == 300)
                #expect(report.ledger == 900)
                #expect(report.log == 900)
                #expect(report.batches > 8)
                // What stays: the live records and the newer ones, and the newer ledger entries (sent again,
                // they are answered from the ledger, not applied twice).
                let (all, _) = try await client.pullAll(token: amara.token)
                #expect(Set(all.map(\.id)) == Set(ids.filter { !doomed.contains($0) } + later.map(\.target.id)))
                let again = try await client.push(Array(later.prefix(3)), client: phone.clientID, token: amara.token)
                #expect(again.map(\.outcome) == [.duplicate, .duplicate, .duplicate])
                // A deleted record cannot come back by its old create.
                var old = MutationFactory()
                let revived = try await client.push(
                    [old.createReflection(id: doomed[0])], client: old.clientID, token: amara.token)
                #expect(revived.first?.outcome == .rejected)
                #expect(try await server.store.compact(keepDays: 0, now: cutoff).ledger == 0)
            }
        }
    }
}
