import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@testable import ReflectionsServer

/// A delete that carries its device's unsent edits (the client folds an unsent edit into a later delete): the
/// edits are never applied or shown to anyone, but kept for the author if the delete loses.
@Suite struct DeleteRulesTests {
    @Test func aDeleteThatLosesKeepsWhatItsDeviceTypedBeforeDeleting() async throws {
        try await StoreHarness.with { h in
            let amara = try await h.member("amara")
            var laptop = MutationFactory()
            var phone = MutationFactory()
            let id = UUID()
            _ = try await h.push(
                laptop.createReflection(id: id, body: "First line.\n", visibility: .community), by: amara,
                device: laptop)
            // The phone edits; the laptop, offline, typed a new line and then deleted the reflection.
            _ = try await h.push(
                phone.update(.reflection, id, base: 1, changes: FieldChanges(body: "First line, from the phone.\n")),
                by: amara, device: phone)
            var delete = laptop.delete(.reflection, id, base: 1)
            delete.changes = FieldChanges(body: "First line.\nTyped on the laptop, then deleted.\n")
            let result = try await h.push(delete, by: amara, device: laptop)
            #expect(result.outcome == .conflict)
            let (changes, _) = try await h.pull(amara)
            let record = try #require(changes.last { $0.id == id })
            #expect(record.reflection?.body == "First line, from the phone.\n")
            let revision = try #require(record.revisions?.first)
            #expect(revision.kind == .deleteVersusEdit)
            #expect(revision.fields.deleted)
            #expect(revision.fields.body.contains("Typed on the laptop"))
            // Another member sees the phone's text only.
            let bo = try await h.member("bo.k")
            let seen = try await h.pull(bo).changes
            #expect(!String(decoding: try JSONEncoder().encode(seen), as: UTF8.self).contains("Typed on the laptop"))
        }
    }

    @Test func anAppliedDeleteStoresNoneOfItsUnsentEdits() async throws {
        try await StoreHarness.with { h in
            let amara = try await h.member("amara")
            var laptop = MutationFactory()
            let id = UUID()
            _ = try await h.push(laptop.createReflection(id: id, body: "First line.\n"), by: amara, device: laptop)
            var delete = laptop.delete(.reflection, id, base: 1)
            delete.changes = FieldChanges(body: "Regretted words.\n")
            #expect(try await h.push(delete, by: amara, device: laptop).outcome == .applied)
            let stored = try await h.engine.read { tx in
                try tx.fetchAll("SELECT body FROM reflections", []).map { $0.text("body") }
                    + tx.fetchAll("SELECT fields FROM record_versions", []).map { $0.text("fields") }
            }
            #expect(!stored.joined().contains("Regretted"))
            #expect(try await h.pull(amara).changes.first?.kind == .tombstone)
        }
    }
}
