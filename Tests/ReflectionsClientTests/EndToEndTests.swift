import Foundation
import GRDB
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Testing

@testable import ReflectionsClient

/// A live reflectd over HTTPS and three client homes: two devices of Amara's, one of Bo's.
@Suite struct EndToEndTests {
    let paragraphs = [
        "Allyship starts with listening.", "On the ward we rarely talk about race.",
        "This year I will ask better questions.",
    ]
    var body: String { paragraphs.joined(separator: "\n\n") + "\n" }

    func replacing(_ text: String, _ old: String, _ new: String) -> String {
        text.replacingOccurrences(of: old, with: new)
    }

    @Test func twoDevicesAndAnotherMemberConverge() async throws {
        try await LiveServer.with { server in
            let laptop = try await Device.make(server, handle: "amara", register: true)
            let phone = try await Device.make(server, handle: "amara", register: false)
            let bo = try await Device.make(server, handle: "bo.k", register: true)

            // Offline writes on both devices.
            let shared = try laptop.store.write(title: "Allyship", body: body, visibility: .community, promptID: 1)
            let secret = try phone.store.write(title: "Private thoughts", body: "Only for me.\n")
            try await laptop.sync()
            try await phone.sync()
            try await laptop.sync()
            #expect(try phone.body(shared.id) == body)
            #expect(try laptop.body(secret.id) == "Only for me.\n")

            // Edits to different paragraphs merge.
            _ = try laptop.store.edit(id: shared.id, body: replacing(body, "listening.", "listening closely."))
            _ = try phone.store.edit(
                id: shared.id, body: replacing(body, "better questions", "better, kinder questions"))
            try await laptop.sync()
            let phoneSummary = try await phone.sync()
            #expect(phoneSummary.merged == 1)
            try await laptop.sync()
            let merged = replacing(
                replacing(body, "listening.", "listening closely."), "better questions", "better, kinder questions")
            #expect(try laptop.body(shared.id) == merged)
            #expect(try phone.body(shared.id) == merged)

            // Edits to the same sentence become a conflict, resolved on one device and seen resolved on the other.
            _ = try laptop.store.edit(id: shared.id, body: replacing(merged, "rarely talk", "never talk"))
            _ = try phone.store.edit(id: shared.id, body: replacing(merged, "rarely talk", "seldom talk"))
            try await laptop.sync()
            let conflicted = try await phone.sync()
            #expect(conflicted.conflicts == 1 && conflicted.openConflicts == 1)
            try await laptop.sync()
            #expect(try laptop.store.conflicts().count == 1)
            let revision = try #require(try laptop.store.reflection(id: shared.id).revisions.first)
            #expect(revision.fields.body.contains("seldom talk"))
            let resolvedText = replacing(merged, "rarely talk", "seldom, if ever, talk")
            try laptop.store.resolve(id: shared.id, choice: .merged(body: resolvedText))
            try await laptop.sync()
            let afterResolve = try await phone.sync()
            #expect(afterResolve.openConflicts == 0)
            #expect(try phone.store.conflicts().isEmpty)
            #expect(try phone.body(shared.id) == resolvedText)

            // Bo sees the community reflection and its comments, never the private one.
            try await bo.sync()
            #expect(try bo.store.reflections().map(\.reflection.id) == [shared.id])
            let comment = try bo.store.comment(on: shared.id, body: "Thank you for this.")
            try await bo.sync()
            try await laptop.sync()
            #expect(try laptop.store.reflection(id: shared.id).comments.map(\.comment.id) == [comment.id])

            // Made private: it and its comment leave Bo's device; a comment he wrote offline meanwhile is
            // rejected but kept, with its text, in status and in the log.
            let late = try bo.store.comment(on: shared.id, body: "One more thought.")
            _ = try laptop.store.edit(id: shared.id, visibility: .private)
            try await laptop.sync()
            let boSummary = try await bo.sync()
            #expect(boSummary.rejected == 1)
            #expect(try bo.store.reflections().isEmpty)
            let status = try bo.store.status()
            #expect(status.rejectedMutations.map(\.recordID) == [late.id])
            #expect(status.rejectedMutations.first?.text == "One more thought.")
            #expect(status.rejectedMutations.first?.rejectCode == "not_found")
            #expect(try bo.store.events(limit: 100).contains { $0.outcome == "rejected" && $0.mutationID != nil })

            for device in [laptop, phone, bo] { try await device.close() }
        }
    }

    @Test func aSyncInterruptedAnywhereLosesAndDuplicatesNothing() async throws {
        try await LiveServer.with { server in
            let laptop = try await Device.make(server, handle: "amara", register: true)
            let phone = try await Device.make(server, handle: "amara", register: false)
            var ids: Set<UUID> = []
            for n in 0..<30 {
                ids.insert(try laptop.store.write(title: "Reflection \(n)", body: "Text \(n).\n").id)
            }
            // The response to the first batch is lost after the server committed it.
            let lossy = FaultyTransport(laptop.connection, thenLosePushResponses: 1)
            await #expect(throws: FaultyTransport.Injected.self) {
                try await SyncEngine(store: laptop.store, transport: lossy, batchSize: 10).sync()
            }
            #expect(try laptop.store.status().pendingMutations == 30)
            let retry = try await SyncEngine(store: laptop.store, transport: laptop.connection, batchSize: 10).sync()
            #expect(retry.pushed == 30)
            #expect(try laptop.store.status().pendingMutations == 0)
            #expect(try laptop.store.runs(limit: 5).map(\.status) == ["ok", "failed"])

            // Batches overlap on the device (the next is read while one is in flight): when the second batch's
            // answer is lost, the first one's is still recorded, and the third is never sent.
            for n in 30..<60 {
                ids.insert(try laptop.store.write(title: "Reflection \(n)", body: "Text \(n).\n").id)
            }
            let secondLost = FaultyTransport(laptop.connection, answerPushes: 1, thenLosePushResponses: 1)
            await #expect(throws: FaultyTransport.Injected.self) {
                try await SyncEngine(store: laptop.store, transport: secondLost, batchSize: 10).sync()
            }
            #expect(try laptop.store.status().pendingMutations == 20)
            let again = try await SyncEngine(store: laptop.store, transport: laptop.connection, batchSize: 10).sync()
            #expect(again.pushed == 20)
            #expect(try laptop.store.status().pendingMutations == 0)

            // The phone's pull drops after one page; the cursor only moved with what was applied.
            let dropping = FaultyTransport(phone.connection, pullPagesBeforeFailure: 1)
            await #expect(throws: FaultyTransport.Injected.self) {
                try await SyncEngine(store: phone.store, transport: dropping, pageSize: 7).sync()
            }
            #expect(try phone.store.reflections().count == 7)
            try await SyncEngine(store: phone.store, transport: phone.connection, pageSize: 7).sync()
            let onPhone = try phone.store.reflections()
            #expect(onPhone.count == 60)
            #expect(Set(onPhone.map(\.reflection.id)) == ids)

            // The server applied each mutation once: one create per reflection in its log.
            let log = try await laptop.connection.serverLog(
                token: try laptop.store.settings().token!, since: 0, limit: 1000)
            #expect(log.entries.count == 60)
            #expect(Set(log.entries.map(\.recordID)) == ids)
            for device in [laptop, phone] { try await device.close() }
        }
    }

    @Test func aDevicesEditsMadeWhilePushesFailedDoNotConflictWithThemselves() async throws {
        try await LiveServer.with { server in
            let laptop = try await Device.make(server, handle: "amara", register: true)
            let reflection = try laptop.store.write(title: "Draft", body: "One.\n")
            let lossy = FaultyTransport(laptop.connection, thenLosePushResponses: 1)
            await #expect(throws: FaultyTransport.Injected.self) { try await laptop.sync(lossy) }
            // The create was sent (maybe applied); the next edit cannot fold into it, and must not conflict.
            _ = try laptop.store.edit(id: reflection.id, body: "One, and two.\n")
            let summary = try await laptop.sync()
            #expect(summary.openConflicts == 0)
            #expect(try laptop.body(reflection.id) == "One, and two.\n")
            try await laptop.close()
        }
    }

    /// The outbox's stored JSON goes to the server as it is. An entry stored by another version of the program
    /// (here: with a field this server does not know) must not stop the device from syncing: the refused batch is
    /// sent once more, decoded and encoded by this version, and every change arrives.
    @Test func anOutboxEntryInAnotherVersionsFormStillArrives() async throws {
        try await LiveServer.with { server in
            let laptop = try await Device.make(server, handle: "amara", register: true)
            let phone = try await Device.make(server, handle: "amara", register: false)
            do {
                let old = try laptop.store.write(title: "Written long ago", body: "Before an upgrade.\n")
                let new = try laptop.store.write(title: "Written now", body: "After it.\n")
                try await laptop.store.pool.write { db in
                    try db.execute(
                        sql:
                            "UPDATE outbox SET mutation = json_insert(mutation, '$.retiredField', 1) WHERE record_id = ?",
                        arguments: [old.id.uuidString])
                }
                let summary = try await laptop.sync()
                #expect(summary.pushed == 2 && summary.rejected == 0)
                try await phone.sync()
                #expect(try phone.body(old.id) == "Before an upgrade.\n")
                #expect(try phone.body(new.id) == "After it.\n")
            } catch {
                Issue.record(error)
            }
            for device in [laptop, phone] { try await device.close() }
        }
    }

    @Test func aWrongPinIsRefusedAndAnUnreachableServerSaysSo() async throws {
        try await LiveServer.with { server in
            let wrong = "sha256:" + String(repeating: "ab", count: 32)
            do {
                _ = try await ServerConnection.fetchPinnedCertificate(serverURL: server.baseURL, pin: wrong)
                Issue.record("a wrong pin was accepted")
            } catch let error as ClientError {
                #expect(error.code == .untrusted)
                #expect(error.message.contains(server.fingerprint))
            }
        }
        do {
            _ = try await ServerConnection.fetchPinnedCertificate(
                serverURL: "https://127.0.0.1:9", pin: "sha256:" + String(repeating: "0", count: 64))
            Issue.record("connected to a closed port")
        } catch let error as ClientError {
            #expect(error.code == .unreachable)
        }
        #expect(throws: ClientError.self) { try ServerConnection.normalise("http://127.0.0.1:8443") }
    }

    @Test func aHomeCanTrustACAFileInsteadOfAPin() async throws {
        try await LiveServer.with { server in
            let caFile = server.dataDirectory.appendingPathComponent("tls-cert.pem").path
            let client = try Home.open(TemporaryDirectory.make(prefix: "reflect-ca"))
            try client.setUp(serverURL: server.baseURL, trust: .caFile(caFile))
            try await client.register(handle: "amara", password: Device.password)
            _ = try client.store.write(title: "Trusted", body: "Through a CA file.\n")
            let summary = try await client.sync()
            #expect(summary.pushed == 1)
            try await client.close()

            // A CA file that does not match the server's certificate is refused.
            let stranger = try SelfSignedCertificate.generate(hostnames: [])
            let strangerFile = server.dataDirectory.appendingPathComponent("stranger.pem")
            try stranger.certificatePEM.write(to: strangerFile, atomically: true, encoding: .utf8)
            let untrusted = try ServerConnection(serverURL: server.baseURL, trust: .caFile(strangerFile.path))
            do {
                _ = try await untrusted.login(handle: "amara", password: "a long enough password")
                Issue.record("an untrusted certificate was accepted")
            } catch let error as ClientError {
                #expect(error.code == .untrusted)
            }
            try await untrusted.shutdown()
        }
    }

    /// Written offline an hour ago, on a device whose clock says so: after the sync, this device and the
    /// member's other devices show the writing time, not the server's receive time.
    @Test func theWritingTimeSurvivesTheSync() async throws {
        try await LiveServer.with { server in
            let laptop = try await Device.make(server, handle: "amara", register: true)
            let hourAgo = WallClock.system.now() - 3_600_000
            let offline = try await Device.make(server, handle: "amara", register: false, clock: WallClock { hourAgo })
            let written = try offline.store.write(title: "On the train", body: "No signal here.\n")
            #expect(written.createdAt == hourAgo)
            try await offline.sync()
            try await laptop.sync()
            #expect(try offline.store.reflection(id: written.id).reflection.createdAt == hourAgo)
            let elsewhere = try laptop.store.reflection(id: written.id).reflection.createdAt
            #expect(elsewhere == hourAgo + 1 || elsewhere == hourAgo, "\(elsewhere) vs \(hourAgo)")
            try await offline.close()
            try await laptop.close()
        }
    }
}
