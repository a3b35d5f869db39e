import Foundation
import ReflectionsModel

/// Why one mutation of a push was refused; it becomes a `rejected` result, never an HTTP error.
struct Rejection: Error {
    var code: String
    var reason: String

    init(_ code: String, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    init(_ error: ValidationError) {
        self.init("validation.\(error.code.rawValue)", error.message)
    }

    static let notFound = Rejection("not_found", "The record does not exist, or you may not see it.")
    static func tooManyConflicts(_ open: Int, _ entity: EntityKind) -> Rejection {
        Rejection(
            "too_many_conflicts",
            "This \(entity.rawValue) has \(open) unresolved conflicts, the most it may hold: resolve them, then send this change again."
        )
    }

    /// Rejections that depend on the record's state and may succeed later: not kept in the idempotency ledger,
    /// so that the same mutation, sent again once the author has acted, is applied.
    static let retryableCodes: Set<String> = ["open_conflicts", "too_many_conflicts"]

    static let openConflicts = Rejection(
        "open_conflicts",
        "This record has unresolved conflicts: resolve them first, then delete it. The delete is kept until then.")
}

/// The push rules, written once for both engines: each mutation is authorised, validated, merged with
/// ``RecordMerge`` and logged, or rejected with a reason, inside the caller's transaction.
enum SQLStorePush {
    static func push(_ tx: any SQLTransaction, _ request: PushRequest, by member: Member, now: Int64) throws
        -> PushResponse
    {
        try tx.lockChangeFeed()
        // The epoch and the horizon are read in the push's own transaction: a restore or a compaction cannot slip
        // between the check and the writes.
        let state = try SQLStorePull.databaseState(tx)
        if let claimed = request.epoch, claimed != state.epoch { throw ServerError.serverRestored }
        // Unlike a pull from 0, a push from a device that never pulled may re-send a mutation whose ledger entry was
        // compacted, so 0 is checked too: such a device downloads everything first (it would next anyway).
        if let cursor = request.cursor, cursor < state.horizon { throw ServerError.cursorExpired }
        try tx.announceChange()
        try claimClient(tx, clientID: request.clientID, member: member, name: request.deviceName, now: now)
        // The batch's ledger entries and the ids its creates name are read with one query each, not one per
        // mutation: on PostgreSQL each query is a round trip, and they were two of a create's three.
        var batch = try BatchLookups(tx, request)
        var results: [MutationResult] = []
        results.reserveCapacity(request.mutations.count)
        let mutations = request.mutations
        var block = CreateBlock()
        var bulk = true
        var index = 0
        while index < mutations.count {
            // New records in bulk where they can be (see `SQLStorePush+Creates`); anything else one at a time.
            if bulk && mutations[index].operation == .create {
                if index >= block.end { block = try CreateBlock(tx, mutations, from: index) }
                let run = bulkRun(
                    mutations, from: index, block: block, clientID: request.clientID, member: member, batch: batch)
                if !run.isEmpty,
                    let written = try? tx.savepoint({
                        try writeCreates(tx, run, clientID: request.clientID, member: member, now: now)
                    })
                {
                    results += written
                    for prepared in run { batch.idsInUse.insert(prepared.mutation.target.id) }
                    index += run.count
                    continue
                }
                // A bulk write that failed left nothing (its savepoint): the rest of this push goes one at a time,
                // where a failure is one mutation's rejection.
                if !run.isEmpty { bulk = false }
            }
            results.append(
                try applyOnce(tx, mutations[index], clientID: request.clientID, member: member, now: now, batch: &batch)
            )
            index += 1
        }
        return PushResponse(results: results, epoch: state.epoch)
    }

    /// What a push reads about its whole batch up front.
    struct BatchLookups {
        /// Stored results of the batch's mutations that were applied before, by mutation id.
        var ledger: [UUID: String]
        /// Ids in use (of any entity) among those the batch's creates name, kept current as creates apply.
        var idsInUse: Set<UUID>

        init(_ tx: any SQLTransaction, _ request: PushRequest) throws {
            ledger = [:]
            idsInUse = []
            let mutationIDs = request.mutations.map(\.id)
            for chunk in SQLList.chunks(mutationIDs) {
                let rows = try tx.fetchAll(
                    """
                    SELECT mutation_id, result FROM applied_mutations
                    WHERE client_id = ? AND mutation_id IN (\(SQLList.placeholders(chunk.count)))
                    """, [request.clientID.sqlValue] + chunk.map(\.sqlValue))
                for row in rows { ledger[row.uuid("mutation_id")] = row.text("result") }
            }
            let created = request.mutations.filter { $0.operation == .create }.map(\.target.id)
            for chunk in SQLList.chunks(created) {
                let list = SQLList.placeholders(chunk.count)
                let rows = try tx.fetchAll(
                    """
                    SELECT id FROM reflections WHERE id IN (\(list)) UNION ALL SELECT id FROM comments WHERE id IN (\(list))
                    UNION ALL SELECT id FROM compacted_records WHERE id IN (\(list))
                    """, chunk.map(\.sqlValue) + chunk.map(\.sqlValue) + chunk.map(\.sqlValue))
                for row in rows { idsInUse.insert(row.uuid("id")) }
            }
        }
    }

    /// A client id belongs to the member who first pushed with it. A device name sent with the push (already
    /// validated) replaces the one kept.
    static func claimClient(_ tx: any SQLTransaction, clientID: UUID, member: Member, name: String?, now: Int64)
        throws
    {
        if let owner = try tx.fetchOne("SELECT member_id, name FROM clients WHERE id = ?", clientID) {
            guard owner.text("member_id") == member.id.uuidString else {
                throw ServerError(
                    .forbidden, "client_not_yours",
                    "This client id belongs to another member: each device needs its own (run 'reflect init' again).")
            }
            if let name, owner.optionalText("name") != name {
                try tx.execute("UPDATE clients SET name = ? WHERE id = ?", name, clientID)
            }
        } else {
            try tx.execute(
                "INSERT INTO clients (id, member_id, first_seen_at, name) VALUES (?, ?, ?, ?)", clientID, member.id,
                now, name)
        }
    }

    /// Applies a mutation unless the ledger has it; either way, returns its result.
    static func applyOnce(
        _ tx: any SQLTransaction, _ mutation: Mutation, clientID: UUID, member: Member, now: Int64,
        batch: inout BatchLookups
    ) throws -> MutationResult {
        if let stored = batch.ledger[mutation.id] {
            var original = try JSONDecoder().decode(MutationResult.self, from: Data(stored.utf8))
            original.originalOutcome = original.outcome
            original.outcome = .duplicate
            return original
        }
        var result: MutationResult
        if mutation.clientID != clientID {
            result = rejected(
                mutation, Rejection("client_mismatch", "The mutation names another client id than the push."))
        } else {
            do {
                let idsInUse = batch.idsInUse
                result = try tx.savepoint { try apply(tx, mutation, member: member, now: now, idsInUse: idsInUse) }
                if mutation.operation == .create && result.outcome != .rejected {
                    batch.idsInUse.insert(mutation.target.id)
                }
            } catch let rejection as Rejection where Rejection.retryableCodes.contains(rejection.code) {
                return rejected(mutation, rejection)
            } catch let rejection as Rejection {
                result = rejected(mutation, rejection)
            } catch {
                // A failure to apply one mutation is that mutation's rejection, never a failed batch: whatever a
                // record's state, a sync cannot be wedged. It is not kept in the ledger, so a later re-send of the
                // same mutation is tried afresh.
                return rejected(
                    mutation,
                    Rejection(
                        "server_error",
                        "The server could not apply this change; it is kept on your device and can be sent again."))
            }
        }
        try tx.execute(
            """
            INSERT INTO applied_mutations (client_id, mutation_id, member_id, result, applied_at)
            VALUES (?, ?, ?, ?, ?)
            """,
            clientID, mutation.id, member.id, result.jsonText, now)
        return result
    }

    static func rejected(_ mutation: Mutation, _ rejection: Rejection) -> MutationResult {
        MutationResult(mutationID: mutation.id, outcome: .rejected, code: rejection.code, reason: rejection.reason)
    }

    // MARK: Applying one mutation

    static func apply(_ tx: any SQLTransaction, _ m: Mutation, member: Member, now: Int64, idsInUse: Set<UUID>)
        throws -> MutationResult
    {
        if m.operation == .create {
            // One id space: an id names one record of one entity, whoever wrote it and whether or not the sender
            // may see it (the answer is the same either way, so it tells nothing about a record they cannot see).
            if idsInUse.contains(m.target.id) {
                throw Rejection("already_exists", "A record with this id exists already.")
            }
            return try create(tx, m, member: member, now: now)
        }
        guard let current = try StoredRecord.load(tx, entity: m.target.entity, id: m.target.id) else {
            throw Rejection.notFound
        }
        let action: Access.Action
        switch m.operation {
        case .create: fatalError("handled above")
        case .resolve: action = .resolve
        case .delete: action = .edit
        case .update:
            if m.changes.hidden != nil {
                guard m.changes == FieldChanges(hidden: m.changes.hidden) else {
                    throw Rejection("invalid_field", "Hiding or showing a comment changes nothing else.")
                }
                action = .moderate
            } else {
                action = .edit
            }
        }
        switch Access.refusal(action, on: current.subject, by: Access.Viewer(member)) {
        case nil: break
        case .notVisible: throw Rejection.notFound
        case .notAllowed:
            switch action {
            case .moderate: throw Rejection("forbidden", "Only a moderator may hide or show a comment.")
            case .resolve: throw Rejection("forbidden", "Only the author may resolve conflicts.")
            case .edit:
                throw Rejection("forbidden", "Only the author may change this \(m.target.entity.rawValue).")
            }
        case .deleted:
            // Moderation never revives: a hide or show of a deleted comment changes nothing.
            throw Rejection("deleted", "This comment was deleted.")
        }
        if m.operation == .resolve { return try resolve(tx, m, current: current, member: member, now: now) }
        guard let startVersion = m.baseVersion else {
            throw Rejection("missing_base_version", "An \(m.operation.rawValue) needs the version it started from.")
        }
        let baseVersion = try effectiveBase(tx, current, from: startVersion, clientID: m.clientID)
        guard let base = try version(tx, current, baseVersion) else {
            throw Rejection("unknown_base_version", "Version \(baseVersion) of this record does not exist.")
        }
        if base.deleted { throw Rejection("deleted", "This \(m.target.entity.rawValue) was deleted.") }
        // A delete may carry the device's unsent edits (folded into it): they are never applied, only kept in the
        // conflict revision if the delete loses, so that nothing typed before deleting is lost.
        var incoming = base.applying(
            try validated(m.changes, entity: m.target.entity, moderating: action == .moderate))
        if m.operation == .delete { incoming.deleted = true }
        var merge = RecordMerge.merge(
            entity: current.entity, base: base, current: .init(current.fields, stamp: current.stamp),
            incoming: .init(incoming, stamp: m.hlc))
        if m.operation == .delete && merge.fields.deleted {
            // An applied delete keeps the record's current content in its tombstone, never the unsent edits.
            merge.fields = current.fields
            merge.fields.deleted = true
        }
        let open = try openRevisionCount(tx, current)
        if merge.fields.deleted && !current.fields.deleted && open > 0 {
            // Deleting would hide the open revisions' text where no device can reach it: refuse, and keep the
            // delete on the device, until the author has resolved the conflict.
            throw Rejection.openConflicts
        }
        if merge.outcome == .conflict, let kept = merge.keptRevision {
            guard open < Limits.openConflictRevisionsMax else { throw Rejection.tooManyConflicts(open, current.entity) }
            try keepRevision(
                tx, m, record: current, kind: merge.conflictKind ?? .text, fields: kept, base: base, now: now)
        }
        if merge.fields == current.fields && merge.outcome != .conflict {
            return MutationResult(mutationID: m.id, outcome: merge.outcome, version: current.version)
        }
        let seq = try write(tx, current, fields: merge.fields, m, member: member, outcome: merge.outcome, now: now)
        return MutationResult(mutationID: m.id, outcome: merge.outcome, version: current.version + 1, sequence: seq)
    }

    static func create(_ tx: any SQLTransaction, _ m: Mutation, member: Member, now: Int64) throws -> MutationResult {
        let changes = try validated(m.changes, entity: m.target.entity, creating: true)
        let fields: RecordFields
        var reflectionID: UUID?
        switch m.target.entity {
        case .reflection:
            guard let title = changes.title, let body = changes.body else {
                throw Rejection("missing_field", "A new reflection needs a title and a body.")
            }
            if changes.reflectionID != nil { throw Rejection("invalid_field", "A reflection answers no reflection.") }
            fields = RecordFields(
                title: title, body: body, visibility: changes.visibility ?? .private, promptID: changes.promptID)
        case .comment:
            guard let body = changes.body, let parentID = changes.reflectionID else {
                throw Rejection("missing_field", "A new comment needs a body and the reflection it answers.")
            }
            if changes.title != nil || changes.visibility != nil || changes.promptID != nil {
                throw Rejection("invalid_field", "A comment has only a body.")
            }
            let parent = try StoredRecord.load(tx, entity: .reflection, id: parentID)
            switch parent.map({ Access.refusalToComment(on: $0.subject, by: Access.Viewer(member)) }) {
            case .some(nil): break
            case .some(.notAllowed):
                throw Rejection("not_community", "Comments are only possible on community reflections.")
            case nil, .some(.notVisible), .some(.deleted):
                throw Rejection("not_found", "The reflection does not exist, or you may not see it.")
            }
            reflectionID = parentID
            fields = RecordFields(body: body, hidden: false)
        }
        let seq = try logChange(
            tx, entity: m.target.entity, id: m.target.id, actor: member.id, owner: member.id, mutation: m,
            operation: "create", outcome: .applied, now: now)
        let shared: Int64? = (m.target.entity == .comment || fields.visibility == .community) ? seq : nil
        // The writing time is the device's clock at the create (its HLC), never later than now; a clock far in the
        // past is kept as it is (the member may really have written it offline long ago).
        let writtenAt = max(0, min(m.hlc.physical, now))
        switch m.target.entity {
        case .reflection:
            try tx.execute(
                """
                INSERT INTO reflections (id, author_id, prompt_id, title, body, visibility, created_at, updated_at,
                    deleted, version, hlc_physical, hlc_counter, hlc_node, seq, first_shared_seq, written_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, FALSE, 1, ?, ?, ?, ?, ?, ?)
                """,
                m.target.id, member.id, fields.promptID, fields.title, fields.body, fields.visibility?.rawValue, now,
                now, m.hlc.physical, Int64(m.hlc.counter), m.hlc.node, seq, shared, writtenAt)
        case .comment:
            try tx.execute(
                """
                INSERT INTO comments (id, reflection_id, author_id, body, created_at, updated_at, deleted, hidden,
                    version, hlc_physical, hlc_counter, hlc_node, seq, first_shared_seq, written_at)
                VALUES (?, ?, ?, ?, ?, ?, FALSE, FALSE, 1, ?, ?, ?, ?, ?, ?)
                """,
                m.target.id, reflectionID, member.id, fields.body, now, now, m.hlc.physical, Int64(m.hlc.counter),
                m.hlc.node, seq, shared, writtenAt)
        }
        try saveVersion(tx, m.target.entity, m.target.id, 1, fields, producer: m.clientID, fastForward: true)
        return MutationResult(mutationID: m.id, outcome: .applied, version: 1, sequence: seq)
    }

    static func resolve(_ tx: any SQLTransaction, _ m: Mutation, current: StoredRecord, member: Member, now: Int64)
        throws
        -> MutationResult
    {
        guard let resolution = m.resolution, !resolution.revisionIDs.isEmpty else {
            throw Rejection("missing_resolution", "A resolve names the conflict revisions it settles.")
        }
        let revisions = try openRevisions(tx, current)
        let settled = resolution.revisionIDs.filter { id in revisions.contains { $0.id == id } }
        var target = current.fields
        switch resolution.choice {
        case .keepCurrent:
            break
        case .takeRevision:
            guard let takenID = resolution.takenRevisionID, let taken = try revision(tx, id: takenID, of: current)
            else { throw Rejection("unknown_revision", "The revision to take does not exist for this record.") }
            target = taken.fields
        case .merged:
            target = current.fields.applying(try validated(m.changes, entity: current.entity))
            target.deleted = false
        }
        // Resolving settles text; it never hides or shows a comment (only a moderator does).
        target.hidden = current.fields.hidden
        if target.deleted && !current.fields.deleted && revisions.contains(where: { !settled.contains($0.id) }) {
            throw Rejection.openConflicts
        }
        if settled.isEmpty {
            // Every named revision was settled already (by another device): this resolve is stale. It must not
            // overwrite what was written since; if it chose other text, that text is kept as a new conflict
            // revision, so that nothing is lost and the author decides again.
            if target == current.fields {
                return MutationResult(mutationID: m.id, outcome: .applied, version: current.version)
            }
            let open = revisions.count
            guard open < Limits.openConflictRevisionsMax else { throw Rejection.tooManyConflicts(open, current.entity) }
            try keepRevision(tx, m, record: current, kind: .text, fields: target, base: current.fields, now: now)
            let seq = try write(tx, current, fields: current.fields, m, member: member, outcome: .conflict, now: now)
            return MutationResult(mutationID: m.id, outcome: .conflict, version: current.version + 1, sequence: seq)
        }
        if !settled.isEmpty {
            try tx.execute(
                "UPDATE conflict_revisions SET resolved_at = ? WHERE id IN (\(SQLList.placeholders(settled.count)))",
                [now.sqlValue] + settled.map(\.sqlValue))
        }
        let seq = try write(tx, current, fields: target, m, member: member, outcome: .applied, now: now)
        return MutationResult(mutationID: m.id, outcome: .applied, version: current.version + 1, sequence: seq)
    }

    /// The changes with every text validated and normalised, or a rejection that says what to fix.
    static func validated(
        _ changes: FieldChanges, entity: EntityKind, creating: Bool = false, moderating: Bool = false
    ) throws -> FieldChanges {
        var result = changes
        do {
            switch entity {
            case .reflection:
                if let title = changes.title { result.title = try Validation.title(title) }
                if let body = changes.body { result.body = try Validation.reflectionBody(body) }
                if changes.hidden != nil { throw Rejection("invalid_field", "Reflections cannot be hidden.") }
                if !creating && changes.reflectionID != nil {
                    throw Rejection("invalid_field", "A reflection answers no reflection.")
                }
                if let prompt = changes.promptID, !(Prompt.defaults.contains { $0.id == prompt }) {
                    throw Rejection("unknown_prompt", "There is no prompt \(prompt); 'reflect prompts' lists them.")
                }
            case .comment:
                if changes.hidden != nil && !moderating {
                    throw Rejection("forbidden", "Only a moderator may hide or show a comment.")
                }
                if let body = changes.body { result.body = try Validation.commentBody(body) }
                if changes.title != nil || changes.visibility != nil || changes.promptID != nil {
                    throw Rejection("invalid_field", "A comment has only a body.")
                }
                if !creating && changes.reflectionID != nil {
                    throw Rejection("invalid_field", "A comment cannot move to another reflection.")
                }
            }
        } catch let error as ValidationError {
            throw Rejection(error)
        }
        return result
    }

    // MARK: Writing

    /// Stores new fields as the next version, logs the change and returns its sequence number.
    static func write(
        _ tx: any SQLTransaction, _ record: StoredRecord, fields: RecordFields, _ m: Mutation, member: Member,
        outcome: MutationOutcome, now: Int64
    ) throws -> Int64 {
        let version = record.version + 1
        let stamp = max(record.stamp, m.hlc)
        let seq = try logChange(
            tx, entity: record.entity, id: record.id, actor: member.id, owner: record.authorID, mutation: m,
            operation: m.operation.rawValue, outcome: outcome, now: now)
        switch record.entity {
        case .reflection:
            let sharedNow = Access.isShared(fields)
            try tx.execute(
                """
                UPDATE reflections SET title = ?, body = ?, visibility = ?, prompt_id = ?, deleted = ?,
                    updated_at = ?, version = ?, hlc_physical = ?, hlc_counter = ?, hlc_node = ?, seq = ?,
                    first_shared_seq = COALESCE(first_shared_seq, ?)
                WHERE id = ?
                """,
                fields.title, fields.body, fields.visibility?.rawValue, fields.promptID, fields.deleted, now, version,
                stamp.physical, Int64(stamp.counter), stamp.node, seq, sharedNow ? seq : nil, record.id)
            if Access.isShared(record.fields) != sharedNow {
                try cascade(tx, reflectionID: record.id, actor: member.id, mutation: m, now: now)
            }
        case .comment:
            try tx.execute(
                """
                UPDATE comments SET body = ?, deleted = ?, hidden = ?, updated_at = ?, version = ?,
                    hlc_physical = ?, hlc_counter = ?, hlc_node = ?, seq = ?
                WHERE id = ?
                """,
                fields.body, fields.deleted, fields.hidden ?? false, now, version, stamp.physical,
                Int64(stamp.counter), stamp.node, seq, record.id)
        }
        // If the version the record leaves kept no copy of its fields (``heldByRecord``: written by a later
        // release), it gets them now, as the base of any later edit that started from it.
        try tx.execute(
            """
            UPDATE record_versions SET fields = ?
            WHERE entity = ? AND record_id = ? AND version = ? AND fields = ?
            """,
            record.fields.jsonText, record.entity.rawValue, record.id, record.version, heldByRecord)
        try saveVersion(
            tx, record.entity, record.id, version, fields, producer: m.clientID, fastForward: outcome == .applied)
        return seq
    }

    /// A reflection became shared or stopped being shared: each of its comments gets a new sequence number, so
    /// that pulls bring them (or their removal).
    static func cascade(_ tx: any SQLTransaction, reflectionID: UUID, actor: UUID, mutation: Mutation, now: Int64)
        throws
    {
        try resequence(
            tx, .comment, "SELECT id, author_id AS owner FROM comments WHERE reflection_id = ? ORDER BY id",
            [reflectionID.sqlValue], actor: actor, mutation: mutation, operation: "cascade", now: now)
    }

    /// Gives every record that `select` finds (columns `id` and `owner`) a new sequence number, so that pulls
    /// bring it again: the change-log rows are written by one statement (one round trip on PostgreSQL, however
    /// many records), then each record takes its number (pipelined there).
    static func resequence(
        _ tx: any SQLTransaction, _ entity: EntityKind, _ select: String, _ arguments: [SQLValue], actor: UUID,
        mutation: Mutation?, operation: String, now: Int64
    ) throws {
        let logged = try tx.fetchAll(
            """
            INSERT INTO change_log (entity, record_id, member_id, owner_id, client_id, mutation_id, operation,
                outcome, at)
            SELECT ?, picked.id, ?, picked.owner, ?, ?, ?, 'applied', ? FROM (\(select)) AS picked
            RETURNING seq, record_id
            """,
            [
                entity.rawValue.sqlValue, actor.sqlValue, mutation?.clientID.sqlValue ?? .null,
                mutation?.id.sqlValue ?? .null, operation.sqlValue, now.sqlValue,
            ] + arguments)
        let table = entity == .reflection ? "reflections" : "comments"
        for row in logged {
            try tx.execute("UPDATE \(table) SET seq = ? WHERE id = ?", row.integer("seq"), row.text("record_id"))
        }
    }

    static func logChange(
        _ tx: any SQLTransaction, entity: EntityKind, id: UUID, actor: UUID, owner: UUID, mutation: Mutation?,
        operation: String,
        outcome: MutationOutcome, now: Int64
    ) throws -> Int64 {
        let row = try tx.fetchOne(
            """
            INSERT INTO change_log (entity, record_id, member_id, owner_id, client_id, mutation_id, operation,
                outcome, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING seq
            """,
            entity.rawValue, id, actor, owner, mutation?.clientID, mutation?.id, operation, outcome.rawValue, now)
        guard let row else { preconditionFailure("INSERT … RETURNING returned no row") }
        return row.integer("seq")
    }

    /// What `record_versions.fields` may hold for a record's current version: nothing of its own — the record's
    /// row has the same fields. Not written yet. Storing each new record's fields once instead of twice measured
    /// push 8,750-8,860 -> 10,840-10,990 records/s (BENCHMARKS.md, session 9), but a server of an earlier release
    /// cannot read such a row, and servers are upgraded one at a time beside each other (README, "PostgreSQL"):
    /// so this release only *understands* it — ``version(_:_:_:)`` reads it as the record's own fields and
    /// ``write`` gives the version the record leaves its copy — and the release after it may start writing it.
    static let heldByRecord = ""

    /// Records a new version, with a copy of its fields (the base of later three-way merges).
    static func saveVersion(
        _ tx: any SQLTransaction, _ entity: EntityKind, _ id: UUID, _ version: Int64, _ fields: RecordFields,
        producer: UUID, fastForward: Bool
    ) throws {
        try tx.execute(
            """
            INSERT INTO record_versions (entity, record_id, version, fields, producer_client_id, fast_forward)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            entity.rawValue, id, version, fields.jsonText, producer, fastForward)
    }

    /// The version an edit really started from: its `baseVersion`, moved forward over the versions that the
    /// same client's own mutations made as sent since then. A device's second edit, made on top of its first
    /// before either was pushed, then never conflicts with that first edit.
    static func effectiveBase(_ tx: any SQLTransaction, _ record: StoredRecord, from start: Int64, clientID: UUID)
        throws -> Int64
    {
        guard start < record.version else { return start }
        let rows = try tx.fetchAll(
            """
            SELECT version, producer_client_id, fast_forward FROM record_versions
            WHERE entity = ? AND record_id = ? AND version > ? ORDER BY version
            """, record.entity.rawValue, record.id, start)
        var base = start
        for row in rows {
            guard row.integer("version") == base + 1, row.optionalText("producer_client_id") == clientID.uuidString,
                row.bool("fast_forward")
            else { break }
            base += 1
        }
        return base
    }

    /// The fields of `record` at `version`, or nil if it has no such version. The current version's are the
    /// record's own (``heldByRecord``); an older version that still holds none would be an inconsistency, answered
    /// as unknown rather than merged against a wrong base.
    static func version(_ tx: any SQLTransaction, _ record: StoredRecord, _ version: Int64) throws -> RecordFields? {
        guard
            let row = try tx.fetchOne(
                "SELECT fields FROM record_versions WHERE entity = ? AND record_id = ? AND version = ?",
                record.entity.rawValue, record.id, version)
        else { return nil }
        let text = row.text("fields")
        if text == heldByRecord { return version == record.version ? record.fields : nil }
        return try JSONDecoder().decode(RecordFields.self, from: Data(text.utf8))
    }

    // MARK: Conflict revisions

    static func keepRevision(
        _ tx: any SQLTransaction, _ m: Mutation, record: StoredRecord, kind: ConflictRevision.Kind,
        fields: RecordFields,
        base: RecordFields, now: Int64
    ) throws {
        try tx.execute(
            """
            INSERT INTO conflict_revisions (id, entity, record_id, author_id, kind, fields, base, base_version,
                client_id, hlc, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING
            """,
            m.id, record.entity.rawValue, record.id, record.authorID, kind.rawValue,
            fields.jsonText, base.jsonText, m.baseVersion, m.clientID,
            String(decoding: m.hlc.jsonUTF8, as: UTF8.self), now)
    }

    /// The open conflict revisions of a record: looked up by entity, id and author together, so that no record
    /// ever reaches another's revisions.
    static func openRevisions(_ tx: any SQLTransaction, _ record: StoredRecord) throws -> [ConflictRevision] {
        try openRevisions(tx, of: [record])[RecordKey(record)] ?? []
    }

    /// A record's entity and id, as a dictionary key.
    struct RecordKey: Hashable {
        var entity: EntityKind
        var id: UUID

        init(_ record: StoredRecord) {
            entity = record.entity
            id = record.id
        }

        init(entity: EntityKind, id: UUID) {
            self.entity = entity
            self.id = id
        }
    }

    /// The open conflict revisions of several records, by record, in one query (see ``openRevisions(_:_:)``).
    static func openRevisions(_ tx: any SQLTransaction, of records: [StoredRecord]) throws
        -> [RecordKey: [ConflictRevision]]
    {
        guard !records.isEmpty else { return [:] }
        let byKey = Dictionary(records.map { (RecordKey($0), $0) }, uniquingKeysWith: { first, _ in first })
        let ids = Array(Set(records.map(\.id)))
        var result: [RecordKey: [ConflictRevision]] = [:]
        for chunk in SQLList.chunks(ids) {
            let rows = try tx.fetchAll(
                """
                SELECT \(revisionColumns) FROM conflict_revisions r LEFT JOIN clients c ON c.id = r.client_id
                WHERE r.resolved_at IS NULL AND r.record_id IN (\(SQLList.placeholders(chunk.count)))
                ORDER BY r.created_at, r.id
                """, chunk.map(\.sqlValue))
            for row in rows {
                guard let entity = EntityKind(rawValue: row.text("entity")) else { continue }
                let key = RecordKey(entity: entity, id: row.uuid("record_id"))
                // Only a revision of this very record, kept for its author (``Access/revision``).
                guard let record = byKey[key],
                    Access.revision(
                        entity: entity, recordID: key.id, authorID: row.uuid("author_id"), belongsTo: record.subject,
                        id: record.id)
                else { continue }
                result[key, default: []].append(try revision(row))
            }
        }
        return result
    }

    /// How many open conflict revisions a record holds.
    static func openRevisionCount(_ tx: any SQLTransaction, _ record: StoredRecord) throws -> Int {
        Int(
            try tx.fetchOne(
                """
                SELECT COUNT(*) AS open FROM conflict_revisions
                WHERE record_id = ? AND entity = ? AND author_id = ? AND resolved_at IS NULL
                """, record.id, record.entity.rawValue, record.authorID)?.integer("open") ?? 0)
    }

    /// The revision with this id, if it belongs to `record` (see
    /// ``Access/revision(entity:recordID:authorID:belongsTo:id:)``).
    static func revision(_ tx: any SQLTransaction, id: UUID, of record: StoredRecord) throws -> ConflictRevision? {
        guard
            let row = try tx.fetchOne(
                """
                SELECT \(revisionColumns) FROM conflict_revisions r LEFT JOIN clients c ON c.id = r.client_id
                WHERE r.id = ?
                """, id),
            Access.revision(
                entity: EntityKind(rawValue: row.text("entity")) ?? .reflection, recordID: row.uuid("record_id"),
                authorID: row.uuid("author_id"), belongsTo: record.subject, id: record.id)
        else { return nil }
        return try revision(row)
    }

    /// The columns ``revision(_:)`` reads: a revision and the name of the device it came from.
    static let revisionColumns = "r.*, c.name AS device_name"

    static func revision(_ row: SQLRow) throws -> ConflictRevision {
        let decoder = JSONDecoder()
        return ConflictRevision(
            id: row.uuid("id"), entity: EntityKind(rawValue: row.text("entity")) ?? .reflection,
            recordID: row.uuid("record_id"), kind: ConflictRevision.Kind(rawValue: row.text("kind")) ?? .text,
            fields: try decoder.decode(RecordFields.self, from: Data(row.text("fields").utf8)),
            base: try row.optionalText("base").map { try decoder.decode(RecordFields.self, from: Data($0.utf8)) },
            baseVersion: row.optionalInteger("base_version"), clientID: row.uuid("client_id"),
            hlc: try decoder.decode(HLCTimestamp.self, from: Data(row.text("hlc").utf8)),
            createdAt: row.integer("created_at"), deviceName: row.optionalText("device_name"))
    }
}
