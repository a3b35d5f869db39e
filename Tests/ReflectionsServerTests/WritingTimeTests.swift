import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@testable import ReflectionsServer

/// The time a member wrote a record: their device's clock at the create, kept beside the server's receive time,
/// and never later than it.
@Suite struct WritingTimeTests {
    @Test func theWritingTimeIsTheDevicesClockAndNeverInTheFuture() async throws {
        try await StoreHarness.with { h in
            let amara = try await h.member("amara")
            // Written offline three hours before it reached the server; and on a device whose clock is a year ahead.
            var offline = MutationFactory(wall: 1_800_000_000_000 - 3 * 3_600_000)
            var ahead = MutationFactory(wall: 1_800_000_000_000 + 365 * 86_400_000)
            let early = UUID()
            let late = UUID()
            _ = try await h.push(offline.createReflection(id: early), by: amara, device: offline)
            _ = try await h.push(ahead.createReflection(id: late), by: amara, device: ahead)
            let (changes, _) = try await h.pull(amara)
            let first = try #require(changes.first { $0.id == early }?.reflection)
            let expected: Int64 = 1_800_000_000_000 - 3 * 3_600_000 + 1
            #expect(first.writtenAt == expected)
            #expect(first.createdAt > first.writtenAt ?? .max)
            let second = try #require(changes.first { $0.id == late }?.reflection)
            #expect(second.writtenAt == second.createdAt)
        }
    }
}
