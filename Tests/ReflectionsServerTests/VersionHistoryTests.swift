import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@testable import ReflectionsServer

/// Every version keeps a copy of its fields, the base of later three-way merges. A later release may store the
/// current version's as '' (the record's row has them); this release must read such a row as the record's own
/// fields and give the version its copy when the record moves on, so that the two can run side by side.
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

    /// As a later release would have written it: the current version's row without its copy.
    func dropCopy(_ h: StoreHarness, _ id: UUID, version: Int64) async throws {
        try await h.engine.write { tx in
            try tx.execute(
                "UPDATE record_versions SET fields = '' WHERE record_id = ? AND version = ?",
                [id.sqlValue, .integer(version)])
        }
    }

    @Test func aRowWithoutItsCopyIsReadAsTheRecordsOwnAndFilledInWhenTheRecordMovesOn() async throws {
        try await StoreHarness.with { h in
            var p = try await AttackTests.People(h)
            let body = "First paragraph.\n\nSecond paragraph.\n"
            let id = UUID()
            let created = try await h.push(
                [
                    p.laptop.createReflection(id: id, body: body), p.laptop.createReflection(),
                    p.laptop.createReflection(),
                ], by: p.amara, client: p.laptop.clientID)
            #expect(created.allSatisfy { $0.outcome == .applied })
            // This release writes the copy, in a bulk run as one at a time.
            let written = try JSONDecoder().decode(
                RecordFields.self, from: Data((try await storedFields(h, id)[1] ?? "").utf8))
            #expect(written.body == body)
            try await dropCopy(h, id, version: 1)
            // The laptop edits the first paragraph from version 1: its base is the record's own fields, and
            // version 1 gets its copy back as the record moves on.
            let first = try await h.push(
                [
                    p.laptop.update(
                        .reflection, id, base: 1,
                        changes: FieldChanges(body: "First paragraph, longer.\n\nSecond paragraph.\n"))
                ], by: p.amara, client: p.laptop.clientID)
            #expect(first.map(\.outcome) == [.applied])
            let base = try JSONDecoder().decode(
                RecordFields.self, from: Data((try await storedFields(h, id)[1] ?? "").utf8))
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
            // An older version without its copy is an inconsistency: answered as unknown, never merged against.
            try await dropCopy(h, id, version: 1)
            let stale = try await h.push(
                [p.phone.update(.reflection, id, base: 1, changes: FieldChanges(title: "Another title"))],
                by: p.amara, client: p.phone.clientID)
            #expect(stale.map(\.code) == ["unknown_base_version"])
            #expect(
                try await h.engine.read { tx in try StoredRecord.load(tx, entity: .reflection, id: id) }?.fields
                    .title == "A reflection")
        }
    }
}
