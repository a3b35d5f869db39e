import Foundation
import GRDB
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Testing

@testable import ReflectionsClient

@Suite struct ClientStoreTests {
    func initializedStore() throws -> ClientStore {
        let store = try ClientStore.open(home: TemporaryDirectory.make(prefix: "store"))
        try store.initialize(serverURL: "https://127.0.0.1:1", trust: .caFile("/nonexistent.pem"))
        return store
    }

    /// A sync run's row is made with the first thing it records; if that transaction rolls back, the next one
    /// makes a new row rather than reusing an id another run may have taken.
    @Test func aSyncRunForgetsARowThatWasRolledBack() throws {
        let store = try ClientStore.open(home: TemporaryDirectory.make(prefix: "store"))
        let run = store.startRun()
        struct Failure: Error {}
        #expect(throws: Failure.self) {
            try store.pool.write { db in
                _ = try run.id(db)
                throw Failure()
            }
        }
        #expect(run.recordedID == nil)
        let id = try store.pool.write { db in try run.id(db) }
        #expect(run.recordedID == id)
        let rows = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sync_runs") ?? 0 }
        #expect(rows == 1)
        // A quiet run writes nothing; a failed one is always recorded.
        try store.finishRun(store.startRun(), status: "ok", counts: SyncCounts(), error: nil)
        try store.finishRun(store.startRun(), status: "failed", counts: SyncCounts(), error: "offline")
        let after = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sync_runs") ?? 0 }
        #expect(after == 2)
        try store.close()
    }

    /// Recording a push's answer: acknowledged entries leave the outbox and each gets its event, in the order of
    /// the answers; an answer with a version this device already holds (a resync brought it before the change was
    /// sent again) makes the server's text final, and what the device showed is logged first.
    @Test func aPushAnswerIsRecordedInOrderAndAHeldVersionSettlesTheText() throws {
        let store = try initializedStore()
        let first = try store.write(title: "First", body: "One.\n")
        let held = try store.write(title: "Device title", body: "Device text.\n")
        let server = RecordFields(title: "Server title", body: "Server text.\n", visibility: .private)
        try store.pool.write { db in
            try db.execute(
                sql: "UPDATE reflections SET server_version = 1, server_fields = ? WHERE id = ?",
                arguments: [server.jsonText, held.id.uuidString])
        }
        let batch = try store.nextBatch(maxCount: 10, maxBytes: 1 << 20)
        #expect(batch.entries.map(\.target.id) == [first.id, held.id])
        let run = store.startRun()
        var counts = SyncCounts()
        try store.applyPushResults(
            run: run, entries: batch.entries,
            results: [
                MutationResult(mutationID: batch.entries[0].id, outcome: .applied, version: 1),
                MutationResult(
                    mutationID: batch.entries[1].id, outcome: .duplicate, originalOutcome: .applied, version: 1),
            ], counts: &counts)
        #expect(counts.pushed == 2)
        #expect(try store.pendingCount() == 0)
        let events = try store.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT record_id, outcome, detail FROM sync_events WHERE run_id = ? ORDER BY id",
                arguments: [run.recordedID])
        }
        #expect(events.map { $0["outcome"] as String } == ["applied", "settled", "applied"])
        #expect(events.map { $0["record_id"] as String } == [first.id, held.id, held.id].map(\.uuidString))
        #expect((events[1]["detail"] as String).contains("Device text."))
        let settled = try store.pool.read { db in try LocalRow.load(db, .reflection, held.id) }
        #expect(settled?.fields.title == "Server title")
        #expect(settled?.fields.body == "Server text.\n")
        let untouched = try store.pool.read { db in try LocalRow.load(db, .reflection, first.id) }
        #expect(untouched?.fields.title == "First")
        try store.close()
    }

    /// A draft keeps any text up to its limit (even one over a writing limit: the member shortens it later), one
    /// per editor; an editor's name must be one of the known kinds with a well-formed id.
    @Test func draftsAreKeptPerEditorWithinTheirLimit() throws {
        let store = try ClientStore.open(home: TemporaryDirectory.make(prefix: "store"))
        let id = UUID()
        let long = String(repeating: "w", count: Limits.reflectionBodyMaxBytes + 1)
        let slot = EditorDraft.Slot.edit(id).text
        try store.saveDraft(EditorDraft(slot: slot, editor: "tab-1", title: "T", body: long))
        try store.saveDraft(EditorDraft(slot: slot, editor: "tab-1", title: "T", body: "Second."))
        #expect(try store.draft(.edit(id))?.body == "Second.")
        #expect(try store.drafts().count == 1)
        #expect(try store.draft(.comment(id)) == nil)
        // Another showing of the same editor keeps its own; discarding one leaves the other.
        try store.saveDraft(EditorDraft(slot: slot, editor: "tab-2", title: "T", body: "Other tab."))
        #expect(try store.drafts(.edit(id)).count == 2)
        try store.discardDraft(.edit(id), editor: "tab-1")
        #expect(try store.drafts(.edit(id)).map(\.body) == ["Other tab."])
        for slot in ["edit:\(id.uuidString.lowercased())", "edit:", "write:x", "other:\(id.uuidString)", ""] {
            #expect(throws: ClientError.self) { try store.saveDraft(EditorDraft(slot: slot, editor: "e", body: "x")) }
        }
        for editor in ["", "a b", "<x>", String(repeating: "e", count: 65)] {
            #expect(throws: ClientError.self) {
                try store.saveDraft(EditorDraft(slot: "write", editor: editor, body: "x"))
            }
        }
        let huge = String(repeating: "w", count: ClientStore.maxDraftCharacters + 1)
        #expect(throws: ClientError.self) { try store.saveDraft(EditorDraft(slot: "write", editor: "e", body: huge)) }
        #expect(throws: ClientError.self) {
            try store.saveDraft(EditorDraft(slot: "write", editor: "e", body: "x", promptID: 99))
        }
        try store.discardDraft(.edit(id))
        #expect(try store.drafts().isEmpty)
        try store.close()
    }

    @Test func writingBeforeInitSaysWhatToRun() throws {
        let store = try ClientStore.open(home: TemporaryDirectory.make(prefix: "store"))
        do {
            _ = try store.write(title: "t", body: "b")
            Issue.record("wrote before init")
        } catch let error as ClientError {
            #expect(error.code == .notInitialized)
            // The library says what comes next; each front end says how (it names no command).
            #expect(error.next == .setUp)
            #expect(!error.message.contains("reflect"))
        }
        #expect(try store.outbox().isEmpty)
    }

    /// The command line turns the library's next step into its own advice, with the command to run.
    @Test func theCommandLineNamesTheCommandForTheNextStep() async throws {
        let home = TemporaryDirectory.make(prefix: "advice").path
        let caFile = TemporaryDirectory.make(prefix: "advice-ca").appendingPathComponent("ca.pem")
        try SelfSignedCertificate.generate(hostnames: []).certificatePEM.write(
            to: caFile, atomically: true, encoding: .utf8)
        let setUp = try await CLIRunner.run(
            "reflect", ["--home", home, "init", "--server", "https://127.0.0.1:9", "--ca", caFile.path])
        #expect(setUp.status == 0)
        let missing = "00000000-0000-0000-0000-000000000000"
        let show = try await CLIRunner.run("reflect", ["--home", home, "show", missing])
        #expect(show.status == 4)
        #expect(show.stderr.contains("No reflection or comment \(missing) here. 'reflect list' shows them."))
        // With --json, the same advice in the error's message, and the library's code.
        let json = try await CLIRunner.run("reflect", ["--home", home, "--json", "show", missing])
        #expect(json.status == 4)
        #expect(json.stdout.contains("\"not_found\""))
        #expect(json.stdout.contains("'reflect list' shows them."))
    }

    @Test func aWriteStoresTheRecordAndItsMutationTogether() throws {
        let store = try initializedStore()
        let reflection = try store.write(
            title: "Allyship", body: "Listening first.\n", visibility: .community, promptID: 1)
        let outbox = try store.outbox()
        #expect(outbox.count == 1)
        #expect(outbox.first?.operation == "create")
        #expect(outbox.first?.recordID == reflection.id)
        #expect(try store.reflection(id: reflection.id).pendingMutations == 1)
        #expect(try store.status().pendingMutations == 1)
    }

    @Test func unsentEditsFoldIntoThePendingMutation() throws {
        let store = try initializedStore()
        let reflection = try store.write(title: "Allyship", body: "One.\n")
        _ = try store.edit(id: reflection.id, body: "One, two.\n")
        _ = try store.edit(id: reflection.id, title: "Allyship, again")
        let outbox = try store.outbox()
        #expect(outbox.count == 1)
        #expect(outbox.first?.text == "One, two.\n")
        #expect(try store.reflection(id: reflection.id).reflection.title == "Allyship, again")
    }

    @Test func aDeleteKeepsTheUnsentEditItReplaces() throws {
        let store = try initializedStore()
        let reflection = try store.write(title: "Allyship", body: "One.\n")
        // As if the create had been sent: mark it so, and give the record a server version.
        _ = try store.nextBatch(maxCount: 10, maxBytes: 1 << 20)
        try store.pool.write { db in
            try db.execute(sql: "DELETE FROM outbox")
            try db.execute(sql: "UPDATE reflections SET server_version = 1")
        }
        _ = try store.edit(id: reflection.id, body: "One, and words typed offline.\n")
        try store.delete(.reflection, id: reflection.id)
        let outbox = try store.outbox()
        #expect(outbox.map(\.operation) == ["delete"])
        #expect(outbox.first?.text == "One, and words typed offline.\n")
    }

    @Test func deletingARecordThatNeverLeftTheDeviceForgetsIt() throws {
        let store = try initializedStore()
        let reflection = try store.write(title: "Draft", body: "Not ready.\n")
        try store.delete(.reflection, id: reflection.id)
        #expect(try store.outbox().isEmpty)
        #expect(throws: ClientError.self) { try store.reflection(id: reflection.id) }
    }

    @Test func badInputIsRefusedAndWritesNothing() throws {
        let store = try initializedStore()
        for (title, body, fragment) in [
            ("", "text", "title is empty"), (String(repeating: "t", count: 201), "text", "at most 200"),
            ("ok", "  \n", "text is empty"),
        ] {
            do {
                _ = try store.write(title: title, body: body)
                Issue.record("accepted \(title.count)/\(body.count)")
            } catch let error as ClientError {
                #expect(error.code == .invalidInput)
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
        #expect(try store.outbox().isEmpty)
        #expect(try store.reflections().isEmpty)
    }

    @Test func commentsNeedACommunityReflection() throws {
        let store = try initializedStore()
        let privateOne = try store.write(title: "Mine", body: "Private.\n")
        #expect(throws: ClientError.self) { try store.comment(on: privateOne.id, body: "hi") }
        let shared = try store.write(title: "Ours", body: "Shared.\n", visibility: .community)
        let comment = try store.comment(on: shared.id, body: "Thank you.")
        #expect(try store.reflection(id: shared.id).comments.map(\.comment.id) == [comment.id])
    }

    @Test func idsResolveFromAUniquePrefix() throws {
        let store = try initializedStore()
        let reflection = try store.write(title: "t", body: "b")
        let (kind, id) = try store.resolveID(String(reflection.id.uuidString.prefix(8)).lowercased())
        #expect(kind == .reflection && id == reflection.id)
        #expect(throws: ClientError.self) { try store.resolveID("zz") }
        #expect(throws: ClientError.self) { try store.resolveID(UUID().uuidString) }
    }

    @Test func theMigratedStoreMatchesTheSchemaFiles() throws {
        let home = TemporaryDirectory.make(prefix: "schema")
        try ClientStore.open(home: home).close()
        let schema = { (db: Database) throws -> [String] in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT type, name, sql FROM sqlite_master
                    WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY type, name
                    """
            ).map { "\($0["type"] as String) \($0["name"] as String): \($0["sql"] as String? ?? "")" }
        }
        let migrated = try DatabaseQueue(path: home.appendingPathComponent("reflect.sqlite").path).read(schema)
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schema/client")
        let reference = try DatabaseQueue()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
            .sorted()
        #expect(!files.isEmpty)
        for file in files {
            let sql = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            try reference.write { try $0.execute(sql: sql) }
        }
        #expect(migrated == (try reference.read(schema)))
    }
}
