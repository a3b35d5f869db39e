import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@testable import ReflectionsServer

/// A record's current version keeps no copy of its fields (the record's row has them); the version it leaves
/// gets its copy when it moves on, so every three-way merge still finds its base.
@Suite struct VersionHistoryTests {
    func storedFields(_ h: StoreHarness, _ id: UUID) async throws -> [Int64: String] {
        try await h.engine.read { tx in
            var fields: [Int64: String] = [:]
            for row in try tx.fetchAll(
                "SELECT version, fields FROM record_versions WHERE record_id = ?", [id.sqlValue])
            {
                fields[row.integer("version")] = row.text("fields")
            }
            return fields
        }
    }

    @Test func aVersionGetsItsCopyWhenTheRecordMovesOnAndMergesStillFindTheirBase() async throws {
        try await StoreHarness.with { h in
            var p = try await AttackTests.People(h)
            let body = "First paragraph.\n\nSecond paragraph.\n"
            let id = UUID()
            // Created alone and in a bulk run: neither stores a second copy of the new record.
            let created = try await h.push(
                [
                    p.laptop.createReflection(id: id, body: body), p.laptop.createReflection(),
                    p.laptop.createReflection(),
                ], by: p.amara, client: p.laptop.clientID)
            #expect(created.allSatisfy { $0.outcome == .applied })
            #expect(try await storedFields(h, id) == [1: ""])
            // The laptop edits the first paragraph: version 1 gets its copy, version 2 is the record's own.
            let first = try await h.push(
                [
                    p.laptop.update(
                        .reflection, id, base: 1,
                        changes: FieldChanges(body: "First paragraph, longer.\n\nSecond paragraph.\n"))
                ], by: p.amara, client: p.laptop.clientID)
            #expect(first.map(\.outcome) == [.applied])
            let versions = try await storedFields(h, id)
            #expect(versions[2] == "")
            let base = try JSONDecoder().decode(RecordFields.self, from: Data((versions[1] ?? "").utf8))
            #expect(base.body == body && base.title == "A reflection")
            // The phone edits the second paragraph from version 1: merged against that base, both edits stay.
            let second = try await h.push(
                [
                    p.phone.update(
                        .reflection, id, base: 1,
                        changes: FieldChanges(body: "First paragraph.\n\nSecond paragraph, longer.\n"))
                ], by: p.amara, client: p.phone.clientID)
            #expect(second.map(\.outcome) == [.merged])
            let record = try await h.engine.read { tx in try StoredRecord.load(tx, entity: .reflection, id: id) }
            #expect(record?.fields.body == "First paragraph, longer.\n\nSecond paragraph, longer.\n")
            #expect(try await storedFields(h, id)[2] != "")
        }
    }
}
