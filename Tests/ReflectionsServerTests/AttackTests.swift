import Foundation
import NIOSSL
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@testable import ReflectionsServer

/// The attacks that broke the README's promises, one test each (RELIABILITY.md, "Security"): a hostile member
/// with a valid account, a stolen or old token, huge or odd input, and slow or many connections.
@Suite struct AttackTests {
    /// Amara (author), Bo (another member), Mo (a moderator), each with a device.
    struct People {
        var amara: Member
        var bo: Member
        var mo: Member
        var laptop = MutationFactory()
        var phone = MutationFactory()
        var boDevice = MutationFactory()
        var moDevice = MutationFactory()

        init(_ harness: StoreHarness) async throws {
            amara = try await harness.member("amara")
            bo = try await harness.member("bo.k")
            mo = try await harness.member("mo.d", role: .moderator)
        }

        /// Amara's private reflection `id` at version 3 with one open conflict revision: the laptop changed its
        /// line, the phone changed the same line from version 1. Returns the phone's (conflicting) result.
        mutating func conflicted(_ h: StoreHarness, id: UUID) async throws -> MutationResult {
            _ = try await h.push(laptop.createReflection(id: id, body: "First line.\n"), by: amara, device: laptop)
            _ = try await h.push(
                laptop.update(.reflection, id, base: 1, changes: FieldChanges(body: "Laptop line.\n")), by: amara,
                device: laptop)
            let conflict = try await h.push(
                phone.update(.reflection, id, base: 1, changes: FieldChanges(body: "Phone line.\n")), by: amara,
                device: phone)
            #expect(conflict.outcome == .conflict)
            return conflict
        }
    }

    // MARK: One id space

    @Test func aRecordIDBelongsToOneRecordOfOneEntity() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let amaras = UUID()
            let bos = UUID()
            let comment = UUID()
            #expect(
                try await h.push(
                    p.laptop.createReflection(id: amaras, visibility: .community), by: p.amara, device: p.laptop
                ).outcome == .applied)
            #expect(
                try await h.push(
                    p.boDevice.createReflection(id: bos, visibility: .community), by: p.bo, device: p.boDevice
                ).outcome == .applied)
            #expect(
                try await h.push(p.boDevice.createComment(id: comment, on: bos), by: p.bo, device: p.boDevice)
                    .outcome == .applied)

            // Bo's comment with the id of Amara's reflection, and Amara's reflection with the id of Bo's comment.
            let stolen = try await h.push(p.boDevice.createComment(id: amaras, on: bos), by: p.bo, device: p.boDevice)
            #expect(stolen.outcome == .rejected)
            #expect(stolen.code == "already_exists")
            let reused = try await h.push(
                p.laptop.createReflection(id: comment), by: p.amara, device: p.laptop)
            #expect(reused.code == "already_exists")

            // The same answer for an id Bo cannot see: a private reflection of Amara's.
            let secret = UUID()
            _ = try await h.push(p.laptop.createReflection(id: secret), by: p.amara, device: p.laptop)
            let probe = try await h.push(p.boDevice.createComment(id: secret, on: bos), by: p.bo, device: p.boDevice)
            #expect(probe.code == "already_exists")
            #expect(probe.reason == stolen.reason)
        }
    }

    /// Databases written before the one-id-space rule may hold a comment with a reflection's id. Conflict
    /// revisions are keyed by entity, record and author, so even then neither side reaches the other's.
    @Test func revisionsNeverCrossEntitiesEvenWhenIDsCollide() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let shared = UUID()
            let bos = UUID()
            _ = try await h.push(
                p.laptop.createReflection(id: shared, body: "One line.\n", visibility: .community), by: p.amara,
                device: p.laptop)
            _ = try await h.push(
                p.boDevice.createReflection(id: bos, visibility: .community), by: p.bo, device: p.boDevice)
            // The colliding comment, as an older server let Bo create it.
            let boID = p.bo.id
            try await h.engine.write { tx in
                try tx.execute(
                    """
                    INSERT INTO comments (id, reflection_id, author_id, body, created_at, updated_at, deleted, hidden,
                        version, hlc_physical, hlc_counter, hlc_node, seq, first_shared_seq)
                    VALUES (?, ?, ?, 'Mine now.', 1, 1, FALSE, FALSE, 1, 1, 0, 'bo', 100000, 100000)
                    """, shared, bos, boID)
                try tx.execute(
                    "INSERT INTO record_versions (entity, record_id, version, fields, fast_forward) VALUES (?, ?, 1, ?, TRUE)",
                    "comment", shared, #"{"body":"Mine now.","deleted":false,"hidden":false}"#)
            }
            // Amara makes hers private, then edits the same line on two devices: a conflict revision.
            _ = try await h.push(
                p.laptop.update(.reflection, shared, base: 1, changes: FieldChanges(visibility: .private)),
                by: p.amara, device: p.laptop)
            _ = try await h.push(
                p.laptop.update(.reflection, shared, base: 2, changes: FieldChanges(body: "Laptop words.\n")),
                by: p.amara, device: p.laptop)
            let conflict = try await h.push(
                p.phone.update(.reflection, shared, base: 2, changes: FieldChanges(body: "Private phone words.\n")),
                by: p.amara, device: p.phone)
            #expect(conflict.outcome == .conflict)

            // Bo's pull carries nothing of her revision.
            let (boChanges, _) = try await h.pull(p.bo)
            #expect(boChanges.allSatisfy { ($0.revisions ?? []).isEmpty })
            #expect(!String(decoding: try JSONEncoder().encode(boChanges), as: UTF8.self).contains("Private phone"))

            // Bo cannot settle her revision through "his" comment.
            let takeHers = try await h.push(
                p.boDevice.resolve(
                    .comment, shared, base: 1,
                    resolution: Resolution(
                        choice: .takeRevision, revisionIDs: [conflict.mutationID], takenRevisionID: conflict.mutationID)
                ), by: p.bo, device: p.boDevice)
            #expect(takeHers.code == "unknown_revision")
            let keepOver = try await h.push(
                p.boDevice.resolve(
                    .comment, shared, base: 1,
                    resolution: Resolution(choice: .keepCurrent, revisionIDs: [conflict.mutationID])),
                by: p.bo, device: p.boDevice)
            #expect(keepOver.outcome == .applied)

            // Bo's own comment conflict stays his: Amara's list holds only revisions of her reflection.
            var boPhone = MutationFactory()
            _ = try await h.push(
                p.boDevice.update(.comment, shared, base: 1, changes: FieldChanges(body: "Edit one.")), by: p.bo,
                device: p.boDevice)
            _ = try await h.push(
                boPhone.update(.comment, shared, base: 1, changes: FieldChanges(body: "Edit two.")), by: p.bo,
                device: boPhone)
            let (amaraChanges, _) = try await h.pull(p.amara)
            let hers = try #require(amaraChanges.last { $0.id == shared && $0.entity == .reflection })
            #expect(hers.revisions?.map(\.id) == [conflict.mutationID])
            #expect(hers.revisions?.allSatisfy { $0.entity == .reflection } == true)

            // She resolves with her phone's text; her next edit goes through (nothing is wedged).
            let resolved = try await h.push(
                p.laptop.resolve(
                    .reflection, shared, base: 3,
                    resolution: Resolution(
                        choice: .takeRevision, revisionIDs: [conflict.mutationID], takenRevisionID: conflict.mutationID)
                ), by: p.amara, device: p.laptop)
            #expect(resolved.outcome == .applied)
            let after = try await h.push(
                p.laptop.update(.reflection, shared, base: 4, changes: FieldChanges(title: "Still mine")),
                by: p.amara, device: p.laptop)
            #expect(after.outcome == .applied)
        }
    }

    // MARK: Moderation and deletes

    @Test func aModeratorsStaleHideDoesNotReviveADeletedComment() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let reflection = UUID()
            let comment = UUID()
            _ = try await h.push(
                p.laptop.createReflection(id: reflection, visibility: .community), by: p.amara, device: p.laptop)
            _ = try await h.push(
                p.boDevice.createComment(id: comment, on: reflection, body: "Regret this."), by: p.bo,
                device: p.boDevice)
            #expect(
                try await h.push(p.boDevice.delete(.comment, comment, base: 1), by: p.bo, device: p.boDevice).outcome
                    == .applied)
            let hide = try await h.push(
                p.moDevice.update(.comment, comment, base: 1, changes: FieldChanges(hidden: true)), by: p.mo,
                device: p.moDevice)
            #expect(hide.outcome == .rejected)
            #expect(hide.code == "deleted")
            for member in [p.amara, p.bo, p.mo] {
                let (changes, _) = try await h.pull(member)
                let seen = changes.filter { $0.id == comment }
                #expect(seen.allSatisfy { $0.kind != .upsert }, "\(member.handle)")
                #expect(
                    !String(decoding: try JSONEncoder().encode(changes), as: UTF8.self).contains("Regret this"),
                    "\(member.handle)")
            }
        }
    }

    @Test func aDeleteNeverHidesAnOpenConflictRevision() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let id = UUID()
            let conflict = try await p.conflicted(h, id: id)
            // The laptop deletes, from the current version and from a stale one.
            for base: Int64 in [3, 1] {
                let delete = try await h.push(
                    p.laptop.delete(.reflection, id, base: base), by: p.amara, device: p.laptop)
                #expect(delete.outcome == .rejected, "base \(base)")
                #expect(delete.code == "open_conflicts", "base \(base)")
            }
            // Taking a delete while another revision stays open is refused too.
            let (changes, _) = try await h.pull(p.amara)
            let current = try #require(changes.last { $0.id == id })
            #expect(current.kind == .upsert)
            #expect(current.revisions?.first?.fields.body == "Phone line.\n")
            // Once resolved, the delete goes through.
            _ = try await h.push(
                p.laptop.resolve(
                    .reflection, id, base: 3,
                    resolution: Resolution(choice: .keepCurrent, revisionIDs: [conflict.mutationID])
                ), by: p.amara, device: p.laptop)
            #expect(
                try await h.push(p.laptop.delete(.reflection, id, base: 4), by: p.amara, device: p.laptop).outcome
                    == .applied)
        }
    }

    @Test func aCommentsAuthorCannotEditItOnceItsReflectionIsPrivate() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let reflection = UUID()
            let comment = UUID()
            _ = try await h.push(
                p.laptop.createReflection(id: reflection, visibility: .community), by: p.amara, device: p.laptop)
            _ = try await h.push(p.boDevice.createComment(id: comment, on: reflection), by: p.bo, device: p.boDevice)
            _ = try await h.push(
                p.laptop.update(.reflection, reflection, base: 1, changes: FieldChanges(visibility: .private)),
                by: p.amara, device: p.laptop)
            let edit = try await h.push(
                p.boDevice.update(.comment, comment, base: 1, changes: FieldChanges(body: "Still here?")), by: p.bo,
                device: p.boDevice)
            #expect(edit.code == "not_found")
            let (changes, _) = try await h.pull(p.bo)
            #expect(changes.first { $0.id == comment }?.kind == .removal)
            #expect(changes.first { $0.id == comment }?.comment == nil)
        }
    }

    @Test func aResolveNeitherShowsAHiddenCommentNorOverwritesNewerWriting() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let reflection = UUID()
            let comment = UUID()
            _ = try await h.push(
                p.laptop.createReflection(id: reflection, visibility: .community), by: p.amara, device: p.laptop)
            _ = try await h.push(
                p.boDevice.createComment(id: comment, on: reflection, body: "Hurtful words."), by: p.bo,
                device: p.boDevice)
            _ = try await h.push(
                p.moDevice.update(.comment, comment, base: 1, changes: FieldChanges(hidden: true)), by: p.mo,
                device: p.moDevice)
            // Bo tries to show his hidden comment again through resolves naming made-up revisions.
            for resolution in [
                Resolution(choice: .merged, revisionIDs: [UUID()]),
                Resolution(choice: .keepCurrent, revisionIDs: [UUID()]),
            ] {
                let result = try await h.push(
                    p.boDevice.resolve(
                        .comment, comment, base: 2, resolution: resolution, changes: FieldChanges(hidden: false)),
                    by: p.bo, device: p.boDevice)
                #expect(result.outcome == .rejected || result.outcome == .applied)
            }
            let (amaras, _) = try await h.pull(p.amara)
            #expect(!amaras.contains { $0.id == comment && $0.kind == .upsert })

            // A stale resolve from an offline device: kept as a new revision, never over the newer text.
            let id = UUID()
            let conflict = try await p.conflicted(h, id: id)
            _ = try await h.push(
                p.laptop.resolve(
                    .reflection, id, base: 3,
                    resolution: Resolution(choice: .keepCurrent, revisionIDs: [conflict.mutationID])), by: p.amara,
                device: p.laptop)
            _ = try await h.push(
                p.laptop.update(.reflection, id, base: 4, changes: FieldChanges(body: "Laptop line, written later.\n")),
                by: p.amara, device: p.laptop)
            let stale = try await h.push(
                p.phone.resolve(
                    .reflection, id, base: 3,
                    resolution: Resolution(
                        choice: .takeRevision, revisionIDs: [conflict.mutationID], takenRevisionID: conflict.mutationID)
                ),
                by: p.amara, device: p.phone)
            #expect(stale.outcome == .conflict)
            let (changes, _) = try await h.pull(p.amara)
            let record = try #require(changes.last { $0.id == id })
            #expect(record.reflection?.body == "Laptop line, written later.\n")
            #expect(record.revisions?.map(\.fields.body) == ["Phone line.\n"])
        }
    }

    @Test func aRejectionThatNeedsAResolveFirstAppliesWhenTheSameMutationIsSentAgain() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let id = UUID()
            let conflict = try await p.conflicted(h, id: id)
            let delete = p.laptop.delete(.reflection, id, base: 3)
            #expect(try await h.push(delete, by: p.amara, device: p.laptop).code == "open_conflicts")
            _ = try await h.push(
                p.phone.resolve(
                    .reflection, id, base: 3,
                    resolution: Resolution(choice: .keepCurrent, revisionIDs: [conflict.mutationID])
                ), by: p.amara, device: p.phone)
            // 'reflect retry' sends the very same mutation again: it applies now, not "duplicate: rejected".
            let again = try await h.push(delete, by: p.amara, device: p.laptop)
            #expect(again.outcome == .applied)
        }
    }

    // MARK: Bounds

    @Test func aTitleHasAByteBoundAsWellAsACharacterBound() async throws {
        let zalgo = "e" + String(repeating: "\u{0301}", count: 2_000)
        #expect(zalgo.count == 1)
        #expect(throws: ValidationError.self) { try Validation.title(zalgo) }
        try await StoreHarness.with { h in
            var p = try await People(h)
            let result = try await h.push(p.laptop.createReflection(title: zalgo), by: p.amara, device: p.laptop)
            #expect(result.outcome == .rejected)
            #expect(result.code == "validation.title_too_long")
            let (changes, _) = try await h.pull(p.amara)
            #expect(changes.isEmpty)
        }
    }

    @Test func openConflictRevisionsAreBoundedPerRecord() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let id = UUID()
            _ = try await h.push(p.laptop.createReflection(id: id, body: "Base line.\n"), by: p.amara, device: p.laptop)
            _ = try await h.push(
                p.laptop.update(.reflection, id, base: 1, changes: FieldChanges(body: "Current line.\n")),
                by: p.amara, device: p.laptop)
            var outcomes: [String] = []
            for index in 0...Limits.openConflictRevisionsMax {
                var device = MutationFactory()
                let result = try await h.push(
                    device.update(.reflection, id, base: 1, changes: FieldChanges(body: "Device \(index) line.\n")),
                    by: p.amara, device: device)
                outcomes.append(result.code ?? result.outcome.rawValue)
            }
            #expect(outcomes.prefix(Limits.openConflictRevisionsMax).allSatisfy { $0 == "conflict" })
            #expect(outcomes.last == "too_many_conflicts")
            // Resolving makes room again.
            let (changes, _) = try await h.pull(p.amara)
            let record = try #require(changes.last { $0.id == id })
            #expect(record.revisions?.count == Limits.openConflictRevisionsMax)
            let version = try #require(record.reflection?.version)
            _ = try await h.push(
                p.laptop.resolve(
                    .reflection, id, base: version,
                    resolution: Resolution(choice: .keepCurrent, revisionIDs: record.revisions?.map(\.id) ?? [])),
                by: p.amara, device: p.laptop)
            var late = MutationFactory()
            let again = try await h.push(
                late.update(.reflection, id, base: 1, changes: FieldChanges(body: "Late line.\n")), by: p.amara,
                device: late)
            #expect(again.outcome == .conflict)
        }
    }

    // MARK: Metadata

    @Test func aCraftedCursorLearnsNothingButTheIDOfARecordThatLeftSight() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let madePrivate = UUID()
            let deleted = UUID()
            _ = try await h.push(
                p.laptop.createReflection(id: madePrivate, visibility: .community, prompt: 4), by: p.amara,
                device: p.laptop)
            _ = try await h.push(
                p.laptop.createReflection(id: deleted, visibility: .community, prompt: 5), by: p.amara,
                device: p.laptop)
            _ = try await h.push(
                p.laptop.update(.reflection, madePrivate, base: 1, changes: FieldChanges(visibility: .private)),
                by: p.amara, device: p.laptop)
            _ = try await h.push(p.laptop.delete(.reflection, deleted, base: 1), by: p.amara, device: p.laptop)
            let cy = try await h.member("cy.r")
            // A member who joined later, with an honest cursor: nothing at all.
            #expect(try await h.pull(cy).changes.isEmpty)
            // With a crafted cursor: the entity and id, never the author, prompt, visibility or times.
            for since in [Int64(2), 3] {
                let page = try await h.store.pull(for: cy, since: since, limit: 100)
                for change in page.changes {
                    #expect(change.reflection == nil && change.comment == nil && change.revisions == nil)
                }
                let text = String(decoding: try JSONEncoder().encode(page), as: UTF8.self)
                #expect(!text.contains(p.amara.id.uuidString))
                #expect(!text.contains("promptID"))
            }
            // The author still gets her own tombstone whole.
            let (hers, _) = try await h.pull(p.amara)
            #expect(hers.first { $0.id == deleted }?.reflection?.authorID == p.amara.id)
        }
    }

    // MARK: Failures

    /// A failure to apply one mutation is that mutation's rejection, not a failed batch; it is not kept in the
    /// idempotency ledger, so the same mutation applies once the cause is gone. The failure is made with a trigger
    /// that refuses a title, on both engines, in both ways a push writes: one mutation at a time (an edit) and a
    /// run of creates in bulk, which falls back to one at a time. (On PostgreSQL statements are pipelined: an
    /// insert's error arrived only at a later statement and failed the whole push with a 500, which the device
    /// would have re-sent for ever.)
    @Test func aFailureToApplyOneMutationRejectsThatMutationAlone() async throws {
        try await StoreHarness.with { h in
            var p = try await People(h)
            let id = UUID()
            _ = try await h.push(p.laptop.createReflection(id: id), by: p.amara, device: p.laptop)
            let postgres = h.store is PostgresStore
            try await h.engine.write { tx in
                if postgres {
                    try tx.execute(
                        """
                        CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN IF NEW.title = 'Boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$
                        """, [])
                    try tx.execute(
                        "CREATE TRIGGER boom BEFORE INSERT OR UPDATE ON reflections FOR EACH ROW EXECUTE FUNCTION boom()",
                        [])
                } else {
                    for event in ["INSERT", "UPDATE"] {
                        try tx.execute(
                            """
                            CREATE TRIGGER boom_\(event) BEFORE \(event) ON reflections WHEN NEW.title = 'Boom'
                            BEGIN SELECT RAISE(ABORT, 'boom'); END
                            """, [])
                    }
                }
            }
            let failing = p.laptop.update(.reflection, id, base: 1, changes: FieldChanges(title: "Boom"))
            let fine = p.laptop.createReflection(title: "Next")
            let results = try await h.push([failing, fine], by: p.amara, client: p.laptop.clientID)
            #expect(results.map(\.outcome) == [.rejected, .applied])
            #expect(results.first?.code == "server_error")
            // Creates written in bulk: the run fails whole, then goes one at a time; only the refused one is lost.
            let creates = [
                p.laptop.createReflection(title: "First"), p.laptop.createReflection(title: "Boom"),
                p.laptop.createReflection(title: "Third"),
            ]
            let bulk = try await h.push(creates, by: p.amara, client: p.laptop.clientID)
            #expect(bulk.map(\.outcome) == [.applied, .rejected, .applied])
            #expect(bulk[1].code == "server_error")
            let (pulled, _) = try await h.pull(p.amara)
            #expect(Set(pulled.compactMap(\.reflection?.title)) == ["A reflection", "Next", "First", "Third"])
            try await h.engine.write { tx in
                if postgres {
                    try tx.execute("DROP TRIGGER boom ON reflections", [])
                } else {
                    for event in ["INSERT", "UPDATE"] { try tx.execute("DROP TRIGGER boom_\(event)", []) }
                }
            }
            let again = try await h.push([failing, creates[1]], by: p.amara, client: p.laptop.clientID)
            #expect(again.map(\.outcome) == [.applied, .applied])
        }
    }

    // MARK: Files

    @Test func membersDataIsReadableByItsOwnerAloneWhateverTheFolder() async throws {
        let folder = TemporaryDirectory.make(prefix: "modes")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        let configuration = ServerConfiguration(dataDirectory: folder)
        try ReflectServer.prepareDataDirectory(configuration)
        let store = try SQLiteStore(path: configuration.databasePath)
        _ = try await store.prompts()
        _ = try ReflectServer.prepareTLS(configuration)
        for suffix in ["", "-wal", "-shm"] {
            #expect(try mode(configuration.databasePath + suffix) == 0o600, "reflectd.sqlite\(suffix)")
        }
        #expect(try mode(configuration.generatedKeyPath) == 0o600)
        try store.close()

        // A database that an older version left world-readable is made private on open.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: configuration.databasePath)
        try SQLiteStore(path: configuration.databasePath).close()
        #expect(try mode(configuration.databasePath) == 0o600)

        // A link where the WAL goes is refused, not followed.
        let planted = TemporaryDirectory.make(prefix: "planted")
        let target = planted.appendingPathComponent("elsewhere").path
        FileManager.default.createFile(atPath: target, contents: Data())
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target)
        try FileManager.default.createSymbolicLink(
            atPath: planted.appendingPathComponent("db.sqlite-wal").path, withDestinationPath: target)
        #expect(throws: (any Error).self) {
            try SQLiteStore(path: planted.appendingPathComponent("db.sqlite").path).close()
        }
        #expect(try mode(target) == 0o644)

        // A folder of ours that others could read is made private; one that others can write to is refused.
        let readable = TemporaryDirectory.make(prefix: "readable")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: readable.path)
        try ReflectServer.prepareDataDirectory(ServerConfiguration(dataDirectory: readable))
        #expect(try mode(readable.path) == 0o700)
        let open = TemporaryDirectory.make(prefix: "open")
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: open.path)
        let error = #expect(throws: (any Error).self) {
            try ReflectServer.prepareDataDirectory(ServerConfiguration(dataDirectory: open))
        }
        #expect(error.map { "\($0)" }?.contains("chmod 700 \(open.path)") == true)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }
}
