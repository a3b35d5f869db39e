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
}
