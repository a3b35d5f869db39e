import Foundation
import GRDB
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
}

extension SQLiteStore {
    public func push(_ request: PushRequest, by member: Member, now: Int64) async throws -> PushResponse {
        try await pool.write { db in
            try Self.claimClient(db, clientID: request.clientID, member: member, now: now)
            var results: [MutationResult] = []
            results.reserveCapacity(request.mutations.count)
            for mutation in request.mutations {
                results.append(try Self.applyOnce(db, mutation, clientID: request.clientID, member: member, now: now))
            }
            return PushResponse(results: results)
        }
    }

    /// A client id belongs to the member who first pushed with it.
    static func claimClient(_ db: Database, clientID: UUID, member: Member, now: Int64) throws {
        if let owner = try String.fetchOne(
            db, sql: "SELECT member_id FROM clients WHERE id = ?", arguments: [clientID.uuidString])
        {
            guard owner == member.id.uuidString else {
                throw ServerError(
                    .forbidden, "client_not_yours",
                    "This client id belongs to another member: each device needs its own (run 'reflect init' again).")
            }
        } else {
            try db.execute(
                sql: "INSERT INTO clients (id, member_id, first_seen_at) VALUES (?, ?, ?)",
                arguments: [clientID.uuidString, member.id.uuidString, now])
        }
    }

    /// Applies a mutation unless the ledger has it; either way, returns its result.
    static func applyOnce(_ db: Database, _ mutation: Mutation, clientID: UUID, member: Member, now: Int64) throws
        -> MutationResult
    {
        if let stored = try String.fetchOne(
            db, sql: "SELECT result FROM applied_mutations WHERE client_id = ? AND mutation_id = ?",
            arguments: [clientID.uuidString, mutation.id.uuidString])
        {
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
                var applied: MutationResult?
                try db.inSavepoint {
                    applied = try apply(db, mutation, member: member, now: now)
                    return .commit
                }
                result = applied!
            } catch let rejection as Rejection {
                result = rejected(mutation, rejection)
            }
        }
        try db.execute(
            sql: """
                INSERT INTO applied_mutations (client_id, mutation_id, member_id, result, applied_at)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [
                clientID.uuidString, mutation.id.uuidString, member.id.uuidString,
                String(decoding: try JSONEncoder().encode(result), as: UTF8.self), now,
            ])
        return result
    }

    static func rejected(_ mutation: Mutation, _ rejection: Rejection) -> MutationResult {
        MutationResult(mutationID: mutation.id, outcome: .rejected, code: rejection.code, reason: rejection.reason)
    }

    // MARK: Applying one mutation

    static func apply(_ db: Database, _ m: Mutation, member: Member, now: Int64) throws -> MutationResult {
        let existing = try StoredRecord.load(db, entity: m.target.entity, id: m.target.id)
        if m.operation == .create {
            if existing != nil { throw Rejection("already_exists", "A record with this id exists already.") }
            return try create(db, m, member: member, now: now)
        }
        guard let current = existing, try mayRead(db, current, member: member) else { throw Rejection.notFound }
        let isAuthor = current.authorID == member.id
        let isModeration =
            m.target.entity == .comment && member.role == .moderator && m.operation == .update
            && m.changes == FieldChanges(hidden: m.changes.hidden) && m.changes.hidden != nil
        guard isAuthor || isModeration else {
            throw Rejection("forbidden", "Only the author may change this \(m.target.entity.rawValue).")
        }
        if m.changes.hidden != nil && !isModeration {
            throw Rejection("forbidden", "Only a moderator may hide or show a comment.")
        }
        switch m.operation {
        case .create: fatalError("handled above")
        case .update, .delete:
            guard let startVersion = m.baseVersion else {
                throw Rejection("missing_base_version", "An \(m.operation.rawValue) needs the version it started from.")
            }
            let baseVersion = try effectiveBase(db, current, from: startVersion, clientID: m.clientID)
            guard let base = try version(db, current.entity, current.id, baseVersion) else {
                throw Rejection("unknown_base_version", "Version \(baseVersion) of this record does not exist.")
            }
            if base.deleted { throw Rejection("deleted", "This \(m.target.entity.rawValue) was deleted.") }
            var incoming = base
            if m.operation == .delete {
                incoming.deleted = true
            } else {
                incoming = base.applying(try validated(m.changes, entity: m.target.entity))
            }
            let merge = RecordMerge.merge(
                entity: current.entity, base: base, current: .init(current.fields, stamp: current.stamp),
                incoming: .init(incoming, stamp: m.hlc))
            if merge.outcome == .conflict, let kept = merge.keptRevision {
                try keepRevision(
                    db, m, record: current, kind: merge.conflictKind ?? .text, fields: kept, base: base, now: now)
            }
            if merge.fields == current.fields && merge.outcome != .conflict {
                return MutationResult(mutationID: m.id, outcome: merge.outcome, version: current.version)
            }
            let seq = try write(db, current, fields: merge.fields, m, member: member, outcome: merge.outcome, now: now)
            return MutationResult(mutationID: m.id, outcome: merge.outcome, version: current.version + 1, sequence: seq)
        case .resolve:
            return try resolve(db, m, current: current, member: member, now: now)
        }
    }

    static func create(_ db: Database, _ m: Mutation, member: Member, now: Int64) throws -> MutationResult {
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
            guard let parent = try StoredRecord.load(db, entity: .reflection, id: parentID),
                try mayRead(db, parent, member: member)
            else { throw Rejection("not_found", "The reflection does not exist, or you may not see it.") }
            guard parent.isShared else {
                throw Rejection("not_community", "Comments are only possible on community reflections.")
            }
            reflectionID = parentID
            fields = RecordFields(body: body, hidden: false)
        }
        let seq = try logChange(
            db, entity: m.target.entity, id: m.target.id, actor: member.id, owner: member.id, mutation: m,
            operation: "create", outcome: .applied, now: now)
        let shared: Int64? = (m.target.entity == .comment || fields.visibility == .community) ? seq : nil
        switch m.target.entity {
        case .reflection:
            try db.execute(
                sql: """
                    INSERT INTO reflections (id, author_id, prompt_id, title, body, visibility, created_at, updated_at,
                        deleted, version, hlc_physical, hlc_counter, hlc_node, seq, first_shared_seq)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    m.target.id.uuidString, member.id.uuidString, fields.promptID, fields.title, fields.body,
                    fields.visibility?.rawValue, now, now, m.hlc.physical, Int64(m.hlc.counter), m.hlc.node, seq,
                    shared,
                ])
        case .comment:
            try db.execute(
                sql: """
                    INSERT INTO comments (id, reflection_id, author_id, body, created_at, updated_at, deleted, hidden,
                        version, hlc_physical, hlc_counter, hlc_node, seq, first_shared_seq)
                    VALUES (?, ?, ?, ?, ?, ?, 0, 0, 1, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    m.target.id.uuidString, reflectionID?.uuidString, member.id.uuidString, fields.body, now, now,
                    m.hlc.physical, Int64(m.hlc.counter), m.hlc.node, seq, shared,
                ])
        }
        try saveVersion(db, m.target.entity, m.target.id, 1, fields, producer: m.clientID, fastForward: true)
        return MutationResult(mutationID: m.id, outcome: .applied, version: 1, sequence: seq)
    }

    static func resolve(_ db: Database, _ m: Mutation, current: StoredRecord, member: Member, now: Int64) throws
        -> MutationResult
    {
        guard current.authorID == member.id else {
            throw Rejection("forbidden", "Only the author may resolve conflicts.")
        }
        guard let resolution = m.resolution, !resolution.revisionIDs.isEmpty else {
            throw Rejection("missing_resolution", "A resolve names the conflict revisions it settles.")
        }
        let revisions = try openRevisions(db, recordID: current.id)
        let settled = resolution.revisionIDs.filter { id in revisions.contains { $0.id == id } }
        var target = current.fields
        switch resolution.choice {
        case .keepCurrent:
            break
        case .takeRevision:
            guard let takenID = resolution.takenRevisionID,
                let taken = try revision(db, id: takenID), taken.recordID == current.id
            else { throw Rejection("unknown_revision", "The revision to take does not exist for this record.") }
            target = taken.fields
        case .merged:
            target = current.fields.applying(try validated(m.changes, entity: current.entity))
            target.deleted = false
        }
        if settled.isEmpty && target == current.fields {
            // Already resolved elsewhere, and nothing to change.
            return MutationResult(mutationID: m.id, outcome: .applied, version: current.version)
        }
        if !settled.isEmpty {
            try db.execute(
                sql:
                    "UPDATE conflict_revisions SET resolved_at = ? WHERE id IN (\(settled.map { _ in "?" }.joined(separator: ",")))",
                arguments: StatementArguments([now] + settled.map { $0.uuidString }))
        }
        let seq = try write(db, current, fields: target, m, member: member, outcome: .applied, now: now)
        return MutationResult(mutationID: m.id, outcome: .applied, version: current.version + 1, sequence: seq)
    }

    // MARK: Reading rules

    /// Whether `member` may see the record at all (the author always; others only shared records).
    static func mayRead(_ db: Database, _ record: StoredRecord, member: Member) throws -> Bool {
        if record.authorID == member.id { return true }
        switch record.entity {
        case .reflection:
            return record.isShared
        case .comment:
            guard let parentID = record.reflectionID,
                let parent = try StoredRecord.load(db, entity: .reflection, id: parentID)
            else { return false }
            if !(parent.isShared || parent.authorID == member.id) { return false }
            return record.fields.hidden != true || member.role == .moderator
        }
    }

    /// The changes with every text validated and normalised, or a rejection that says what to fix.
    static func validated(_ changes: FieldChanges, entity: EntityKind, creating: Bool = false) throws -> FieldChanges {
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
        _ db: Database, _ record: StoredRecord, fields: RecordFields, _ m: Mutation, member: Member,
        outcome: MutationOutcome, now: Int64
    ) throws -> Int64 {
        let version = record.version + 1
        let stamp = max(record.stamp, m.hlc)
        let seq = try logChange(
            db, entity: record.entity, id: record.id, actor: member.id, owner: record.authorID, mutation: m,
            operation: m.operation.rawValue, outcome: outcome, now: now)
        switch record.entity {
        case .reflection:
            let sharedNow = fields.visibility == .community && !fields.deleted
            try db.execute(
                sql: """
                    UPDATE reflections SET title = ?, body = ?, visibility = ?, prompt_id = ?, deleted = ?,
                        updated_at = ?, version = ?, hlc_physical = ?, hlc_counter = ?, hlc_node = ?, seq = ?,
                        first_shared_seq = COALESCE(first_shared_seq, ?)
                    WHERE id = ?
                    """,
                arguments: [
                    fields.title, fields.body, fields.visibility?.rawValue, fields.promptID, fields.deleted, now,
                    version,
                    stamp.physical, Int64(stamp.counter), stamp.node, seq, sharedNow ? seq : nil, record.id.uuidString,
                ])
            if record.isShared != sharedNow {
                try cascade(db, reflectionID: record.id, actor: member.id, mutation: m, now: now)
            }
        case .comment:
            try db.execute(
                sql: """
                    UPDATE comments SET body = ?, deleted = ?, hidden = ?, updated_at = ?, version = ?,
                        hlc_physical = ?, hlc_counter = ?, hlc_node = ?, seq = ?
                    WHERE id = ?
                    """,
                arguments: [
                    fields.body, fields.deleted, fields.hidden ?? false, now, version, stamp.physical,
                    Int64(stamp.counter), stamp.node, seq, record.id.uuidString,
                ])
        }
        try saveVersion(
            db, record.entity, record.id, version, fields, producer: m.clientID, fastForward: outcome == .applied)
        return seq
    }

    /// A reflection became shared or stopped being shared: each of its comments gets a new sequence number, so
    /// that pulls bring them (or their removal).
    static func cascade(_ db: Database, reflectionID: UUID, actor: UUID, mutation: Mutation, now: Int64) throws {
        let comments = try Row.fetchAll(
            db, sql: "SELECT id, author_id FROM comments WHERE reflection_id = ?", arguments: [reflectionID.uuidString])
        for row in comments {
            let id = UUID(uuidString: row["id"])!
            let seq = try logChange(
                db, entity: .comment, id: id, actor: actor, owner: UUID(uuidString: row["author_id"])!,
                mutation: mutation, operation: "cascade", outcome: .applied, now: now)
            try db.execute(sql: "UPDATE comments SET seq = ? WHERE id = ?", arguments: [seq, id.uuidString])
        }
    }

    static func logChange(
        _ db: Database, entity: EntityKind, id: UUID, actor: UUID, owner: UUID, mutation: Mutation?, operation: String,
        outcome: MutationOutcome, now: Int64
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO change_log (entity, record_id, member_id, owner_id, client_id, mutation_id, operation,
                    outcome, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entity.rawValue, id.uuidString, actor.uuidString, owner.uuidString, mutation?.clientID.uuidString,
                mutation?.id.uuidString, operation, outcome.rawValue, now,
            ])
        return db.lastInsertedRowID
    }

    static func saveVersion(
        _ db: Database, _ entity: EntityKind, _ id: UUID, _ version: Int64, _ fields: RecordFields, producer: UUID,
        fastForward: Bool
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO record_versions (entity, record_id, version, fields, producer_client_id, fast_forward)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entity.rawValue, id.uuidString, version,
                String(decoding: try JSONEncoder().encode(fields), as: UTF8.self),
                producer.uuidString, fastForward,
            ])
    }

    /// The version an edit really started from: its `baseVersion`, moved forward over the versions that the
    /// same client's own mutations made as sent since then. A device's second edit, made on top of its first
    /// before either was pushed, then never conflicts with that first edit.
    static func effectiveBase(_ db: Database, _ record: StoredRecord, from start: Int64, clientID: UUID) throws -> Int64
    {
        guard start < record.version else { return start }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT version, producer_client_id, fast_forward FROM record_versions
                WHERE entity = ? AND record_id = ? AND version > ? ORDER BY version
                """, arguments: [record.entity.rawValue, record.id.uuidString, start])
        var base = start
        for row in rows {
            guard row["version"] == base + 1, row["producer_client_id"] == clientID.uuidString,
                row["fast_forward"] as Bool
            else { break }
            base += 1
        }
        return base
    }

    static func version(_ db: Database, _ entity: EntityKind, _ id: UUID, _ version: Int64) throws -> RecordFields? {
        guard
            let json = try String.fetchOne(
                db, sql: "SELECT fields FROM record_versions WHERE entity = ? AND record_id = ? AND version = ?",
                arguments: [entity.rawValue, id.uuidString, version])
        else { return nil }
        return try JSONDecoder().decode(RecordFields.self, from: Data(json.utf8))
    }

    // MARK: Conflict revisions

    static func keepRevision(
        _ db: Database, _ m: Mutation, record: StoredRecord, kind: ConflictRevision.Kind, fields: RecordFields,
        base: RecordFields, now: Int64
    ) throws {
        let encoder = JSONEncoder()
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO conflict_revisions (id, entity, record_id, author_id, kind, fields, base,
                    base_version, client_id, hlc, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                m.id.uuidString, record.entity.rawValue, record.id.uuidString, record.authorID.uuidString,
                kind.rawValue,
                String(decoding: try encoder.encode(fields), as: UTF8.self),
                String(decoding: try encoder.encode(base), as: UTF8.self), m.baseVersion, m.clientID.uuidString,
                String(decoding: try encoder.encode(m.hlc), as: UTF8.self), now,
            ])
    }

    static func openRevisions(_ db: Database, recordID: UUID) throws -> [ConflictRevision] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM conflict_revisions WHERE record_id = ? AND resolved_at IS NULL ORDER BY created_at, id",
            arguments: [recordID.uuidString]
        ).map(revision(_:))
    }

    static func revision(_ db: Database, id: UUID) throws -> ConflictRevision? {
        try Row.fetchOne(db, sql: "SELECT * FROM conflict_revisions WHERE id = ?", arguments: [id.uuidString])
            .map(revision(_:))
    }

    static func revision(_ row: Row) throws -> ConflictRevision {
        let decoder = JSONDecoder()
        let base: String? = row["base"]
        return ConflictRevision(
            id: UUID(uuidString: row["id"])!, entity: EntityKind(rawValue: row["entity"]) ?? .reflection,
            recordID: UUID(uuidString: row["record_id"])!, kind: ConflictRevision.Kind(rawValue: row["kind"]) ?? .text,
            fields: try decoder.decode(RecordFields.self, from: Data((row["fields"] as String).utf8)),
            base: try base.map { try decoder.decode(RecordFields.self, from: Data($0.utf8)) },
            baseVersion: row["base_version"], clientID: UUID(uuidString: row["client_id"])!,
            hlc: try decoder.decode(HLCTimestamp.self, from: Data((row["hlc"] as String).utf8)),
            createdAt: row["created_at"])
    }
}
