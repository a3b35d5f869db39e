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

    /// An own comment edited offline while another device deleted it, and the server compacted the delete: the
    /// edit is kept as a new comment under the same reflection (as the merge keeps an edit over a delete), and the
    /// old id stays gone.
    @Test func aCommentEditedOfflineButDeletedAndCompactedElsewhereIsKeptAsANewComment() async throws {
        try await LiveServer.with { server in
            let amara = try await Device.make(server, handle: "amara", register: true)
            let boLaptop = try await Device.make(server, handle: "bo.k", register: true)
            let boPhone = try await Device.make(server, handle: "bo.k", register: false)
            let shared = try amara.store.write(title: "Allyship", body: "Listening first.\n", visibility: .community)
            try await amara.sync()
            try await boLaptop.sync()
            let comment = try boLaptop.store.comment(on: shared.id, body: "Thank you for this.")
            try await boLaptop.sync()
            try await boPhone.sync()

            try boLaptop.store.delete(.comment, id: comment.id)
            try await boLaptop.sync()
            try boPhone.store.editComment(id: comment.id, body: "Thank you, and one more thought from the ward.")
            let report = try await server.store.compact(keepDays: 1, now: WallClock.system.now() + 2 * 86_400_000)
            #expect(report.tombstones == 1)

            let sync = try await boPhone.sync()
            #expect(sync.resync?.reason == .expired)
            #expect(sync.rejected == 0)
            #expect((try? boPhone.store.comment(id: comment.id)) == nil)
            let kept = try #require(
                try boPhone.store.comments().first { $0.comment.body.hasPrefix("Thank you, and one more") })
            #expect(kept.comment.reflectionID == shared.id)
            #expect(try boPhone.store.status().pendingMutations == 0)
            #expect(
                try boPhone.store.events(limit: 100).contains { $0.detail?.contains("kept as a new comment") == true })
            try await amara.sync()
            #expect(try amara.store.comment(id: kept.comment.id).comment.body == kept.comment.body)
            for device in [amara, boLaptop, boPhone] { try await device.close() }
        }
    }

    /// A transport that runs `between` once, after the first page of a download from 0.
    final class BetweenPages: SyncTransport {
        let inner: any SyncTransport
        let between: LockedBox<(@Sendable () async throws -> Void)?>

        init(_ inner: any SyncTransport, between: @escaping @Sendable () async throws -> Void) {
            self.inner = inner
            self.between = LockedBox(between)
        }

        func push(_ request: PushRequest, token: String) async throws -> PushResponse {
            try await inner.push(request, token: token)
        }

        func push(_ push: EncodedPush, token: String) async throws -> PushResponse {
            try await inner.push(push, token: token)
        }

        func pull(since: Int64, limit: Int, token: String, epoch: String?, fullDownload: DownloadFromZero?)
            async throws -> PullResponse
        {
            if fullDownload != nil && since > 0,
                let run = between.update({ hook in
                    defer { hook = nil }
                    return hook
                })
            {
                try await run()
            }
            return try await inner.pull(
                since: since, limit: limit, token: token, epoch: epoch, fullDownload: fullDownload)
        }
    }

    /// A resync whose pages straddle a compaction starts again, so a record deleted between its pages does not
    /// stay on the device.
    @Test func aResyncThatStraddlesACompactionStartsAgain() async throws {
        try await LiveServer.with { server in
            let laptop = try await Device.make(server, handle: "amara", register: true)
            let bo = try await Device.make(server, handle: "bo.k", register: true)
            let early = try laptop.store.write(title: "Early", body: "Shared first.\n", visibility: .community)
            _ = try laptop.store.write(title: "Later", body: "Shared next.\n", visibility: .community)
            for device in [laptop, bo] { try await device.sync() }
            // Bo's cursor falls below the horizon.
            let gone = try laptop.store.write(title: "Gone", body: "Deleted soon.\n", visibility: .community)
            try await laptop.sync()
            try laptop.store.delete(.reflection, id: gone.id)
            try await laptop.sync()
            _ = try await server.store.compact(keepDays: 0, now: WallClock.system.now() + 1)

            // During Bo's resync, after its first page (which holds "Early"), "Early" is deleted and compacted.
            let hook = BetweenPages(bo.connection) {
                try laptop.store.delete(.reflection, id: early.id)
                try await laptop.sync()
                _ = try await server.store.compact(keepDays: 0, now: WallClock.system.now() + 1)
            }
            // The second page is refused (410: the horizon moved), and the same sync starts the download again.
            let again = try await SyncEngine(store: bo.store, transport: hook, pageSize: 1).sync()
            #expect(hook.between.value == nil)
            #expect(again.resync?.reason == .expired)
            #expect((try? bo.store.reflection(id: early.id)) == nil)
            #expect((try? bo.store.reflection(id: gone.id)) == nil)
            for device in [laptop, bo] { try await device.close() }
        }
    }
}
