import Foundation
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Testing

/// Creates are written in bulk where they can be: every create still gets the answer the one-at-a-time rules
/// give it, in order, and a create that fails a check neither stops nor joins the bulk around it.
@Suite struct BulkCreateTests {
    @Test func aMixedBatchGetsTheSameAnswersAsOneAtATime() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let amara = try await client.member("amara")
                let bo = try await client.member("bo.k")
                var boDevice = MutationFactory()
                let (boShared, boPrivate) = (UUID(), UUID())
                _ = try await client.push(
                    [
                        boDevice.createReflection(id: boShared, visibility: .community),
                        boDevice.createReflection(id: boPrivate, body: "Bo's own words.\n"),
                    ], client: boDevice.clientID, token: bo.token)

                var device = MutationFactory()
                let (a, b, c) = (UUID(), UUID(), UUID())
                let batch = [
                    device.createReflection(id: a, visibility: .community),
                    device.createReflection(id: b),
                    device.createComment(on: a, body: "On a reflection created just before."),
                    device.createReflection(title: "", body: "No title.\n"),
                    device.createReflection(id: c, title: "C"),
                    device.createReflection(id: c, title: "C again"),
                    device.createComment(on: boShared, body: "On Bo's shared reflection."),
                    device.createComment(on: boPrivate, body: "On Bo's private reflection."),
                    device.createReflection(id: boShared, title: "Bo's id"),
                    device.createReflection(title: "D"),
                    device.createReflection(title: "E"),
                    device.createComment(on: boShared, body: "Another on Bo's."),
                ]
                let results = try await client.push(batch, client: device.clientID, token: amara.token)
                #expect(results.map(\.mutationID) == batch.map(\.id))
                #expect(
                    results.map(\.outcome) == [
                        .applied, .applied, .applied, .rejected, .applied, .rejected, .applied, .rejected, .rejected,
                        .applied, .applied, .applied,
                    ])
                #expect(results[3].code == "validation.title_empty")
                #expect(results[5].code == "already_exists")
                #expect(results[7].code == "not_found")
                #expect(results[8].code == "already_exists")
                // Every applied create: version 1, and sequence numbers in the batch's order.
                let applied = results.filter { $0.outcome == .applied }
                #expect(applied.allSatisfy { $0.version == 1 })
                let sequences = applied.compactMap(\.sequence)
                #expect(sequences.count == applied.count && sequences == sequences.sorted())
                #expect(Set(sequences).count == sequences.count)

                // What was written is what a pull brings: Bo sees the shared reflection and the comments on his.
                let (bosView, _) = try await client.pullAll(token: bo.token)
                let appliedIDs = Set(zip(batch, results).filter { $0.1.outcome == .applied }.map(\.0.target.id))
                let seenByBo = Set(bosView.map(\.id)).intersection(appliedIDs)
                #expect(seenByBo == [a, batch[2].target.id, batch[6].target.id, batch[11].target.id])
                let (amarasView, _) = try await client.pullAll(token: amara.token)
                #expect(appliedIDs.isSubset(of: Set(amarasView.map(\.id))))

                // Sent again: each answered from the ledger with its first outcome (none of these rejections may
                // succeed later, so each is kept there too).
                let again = try await client.push(batch, client: device.clientID, token: amara.token)
                #expect(again.map(\.outcome) == results.map { _ in .duplicate })
                #expect(again.map(\.originalOutcome) == results.map(\.outcome))
                #expect(again.map(\.sequence) == results.map(\.sequence))
            }
        }
    }

    /// More creates than one statement takes (128 rows), of both kinds, in one push.
    @Test func aLargeBatchIsWrittenWhole() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let amara = try await client.member("amara")
                var device = MutationFactory()
                let shared = UUID()
                _ = try await client.push(
                    [device.createReflection(id: shared, visibility: .community)], client: device.clientID,
                    token: amara.token)
                let batch =
                    (0..<300).map { device.createReflection(body: "Reflection \($0).\n") }
                    + (0..<199).map { device.createComment(on: shared, body: "Comment \($0).") }
                let results = try await client.push(batch, client: device.clientID, token: amara.token)
                #expect(results.allSatisfy { $0.outcome == .applied && $0.version == 1 && $0.sequence != nil })
                let (all, _) = try await client.pullAll(token: amara.token)
                #expect(all.count == 500)
                let texts = Set(all.compactMap { $0.reflection?.body ?? $0.comment?.body })
                #expect(texts.contains("Reflection 299.\n") && texts.contains("Comment 198."))
            }
        }
    }
}
