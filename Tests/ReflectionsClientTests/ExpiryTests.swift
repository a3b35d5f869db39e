import Foundation
import ReflectionsClient
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Testing

/// A device offline across a compaction: its next sync is told its cursor expired, it resyncs, and nothing its
/// member wrote is lost — deletes made elsewhere reach it, its own edits go out (an edit wins over a delete).
@Suite struct ExpiryTests {
    @Test func aDeviceOfflineAcrossACompactionResyncsAndKeepsItsWriting() async throws {
        try await LiveServer.with { server in
            let laptop = try await Device.make(server, handle: "amara", register: true)
            let phone = try await Device.make(server, handle: "amara", register: false)
            let bo = try await Device.make(server, handle: "bo.k", register: true)
            let editedThere = try laptop.store.write(
                title: "One", body: "Deleted on the laptop.\n", visibility: .community)
            let changed = try laptop.store.write(title: "Two", body: "Edited on the laptop.\n", visibility: .community)
            let mine = try laptop.store.write(title: "Three", body: "Private words.\n")
            let gone = try laptop.store.write(title: "Four", body: "Deleted, and nobody kept it.\n")
            for device in [laptop, phone, bo] { try await device.sync() }

            // The phone and Bo stay offline while the laptop deletes two and edits one, and the server compacts.
            try laptop.store.delete(.reflection, id: editedThere.id)
            try laptop.store.delete(.reflection, id: gone.id)
            _ = try laptop.store.edit(id: changed.id, body: "Edited on the laptop, later.\n")
            try await laptop.sync()
            _ = try phone.store.edit(id: editedThere.id, body: "Edited on the phone, offline.\n")
            _ = try phone.store.edit(id: mine.id, body: "Private words, and more from the phone.\n")
            let report = try await server.store.compact(
                keepDays: 1, now: WallClock.system.now() + 2 * 86_400_000)
            #expect(report.tombstones == 2)

            // Bo first: the shared reflection deleted elsewhere leaves his device.
            let boSync = try await bo.sync()
            #expect(boSync.resync?.reason == .expired)
            #expect((try? bo.store.reflection(id: editedThere.id)) == nil)
            #expect(try bo.body(changed.id) == "Edited on the laptop, later.\n")

            // The phone: its edit of the deleted (and compacted) reflection is kept as a new private reflection —
            // the old id never comes back, and nothing its author withdrew is shown again; its private edit goes
            // out, the one it never touched is gone, the laptop's edit arrives.
            let phoneSync = try await phone.sync()
            #expect(phoneSync.resync?.reason == .expired)
            #expect(phoneSync.rejected == 0)
            #expect((try? phone.store.reflection(id: editedThere.id)) == nil)
            let kept = try #require(
                try phone.store.reflections().first { $0.reflection.body == "Edited on the phone, offline.\n" })
            #expect(kept.reflection.visibility == .private)
            #expect(try phone.body(changed.id) == "Edited on the laptop, later.\n")
            #expect((try? phone.store.reflection(id: gone.id)) == nil)
            #expect(try phone.store.status().pendingMutations == 0)
            #expect(try phone.store.events(limit: 100).contains { $0.outcome == "resync" })
            #expect(try phone.store.status().lastResync?.detail.contains("compacted") == true)

            for device in [laptop, bo] { try await device.sync() }
            #expect(try laptop.body(kept.reflection.id) == "Edited on the phone, offline.\n")
            #expect(try laptop.body(mine.id) == "Private words, and more from the phone.\n")
            #expect((try? bo.store.reflection(id: kept.reflection.id)) == nil)
            #expect((try? bo.store.reflection(id: mine.id)) == nil)
            for device in [laptop, phone, bo] { try await device.close() }
        }
    }
}
