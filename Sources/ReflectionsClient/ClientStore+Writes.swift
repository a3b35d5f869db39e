import Foundation
import GRDB
import ReflectionsModel

extension ClientStore {
    /// Writes a new reflection locally (offline is fine) and queues it for the server.
    public func write(
        title: String, body: String, visibility: Visibility = .private, promptID: Int? = nil, id: UUID = UUID()
    ) throws -> Reflection {
        let title = try validate { try Validation.title(title) }
        let body = try validate { try Validation.reflectionBody(body) }
        if let promptID, !(Prompt.defaults.contains { $0.id == promptID }) {
            throw ClientError(.invalidInput, "There is no prompt \(promptID).", next: .listPrompts)
        }
        return try pool.write { db in
            let settings = try requireInitialized(db)
            let now = clock.now()
            let fields = RecordFields(title: title, body: body, visibility: visibility, promptID: promptID)
            let row = LocalRow(
                entity: .reflection, id: id, authorID: settings.member?.id, reflectionID: nil, fields: fields,
                serverVersion: 0, serverFields: nil, createdAt: now, updatedAt: now, conflicted: false)
            try row.save(db)
            let mutation = Mutation(
                clientID: settings.clientID!, target: .init(entity: .reflection, id: id), operation: .create,
                changes: FieldChanges(title: title, body: body, visibility: visibility, promptID: promptID),
                hlc: try tick(db, settings: settings))
            try enqueue(db, mutation)
            return row.reflection
        }
    }

    /// Changes a reflection of this member's; only the given fields change.
    public func edit(id: UUID, title: String? = nil, body: String? = nil, visibility: Visibility? = nil) throws
        -> Reflection
    {
        let title = try title.map { t in try validate { try Validation.title(t) } }
        let body = try body.map { b in try validate { try Validation.reflectionBody(b) } }
        return try pool.write { db in
            let settings = try requireInitialized(db)
            var row = try requireOwn(db, .reflection, id, settings: settings)
            var changes = FieldChanges()
            if let title, title != row.fields.title { changes.title = title }
            if let body, body != row.fields.body { changes.body = body }
            if let visibility, visibility != row.fields.visibility { changes.visibility = visibility }
            if changes.isEmpty {
                throw ClientError(.nothingToDo, "Nothing to change: the reflection already reads like that.")
            }
            row.fields = row.fields.applying(changes)
            row.updatedAt = clock.now()
            try row.save(db)
            try enqueue(db, update(row, changes: changes, settings: settings, db: db))
            return row.reflection
        }
    }

    /// Changes the text of a comment of this member's.
    public func editComment(id: UUID, body: String) throws {
        let body = try validate { try Validation.commentBody(body) }
        try pool.write { db in
            let settings = try requireInitialized(db)
            var row = try requireOwn(db, .comment, id, settings: settings)
            guard body != row.fields.body else {
                throw ClientError(.nothingToDo, "Nothing to change: the comment already reads like that.")
            }
            row.fields.body = body
            row.updatedAt = clock.now()
            try row.save(db)
            try enqueue(db, update(row, changes: FieldChanges(body: body), settings: settings, db: db))
        }
    }

    /// Deletes a reflection or comment of this member's.
    public func delete(_ entity: EntityKind, id: UUID) throws {
        try pool.write { db in
            let settings = try requireInitialized(db)
            var row = try requireOwn(db, entity, id, settings: settings)
            row.fields.deleted = true
            row.updatedAt = clock.now()
            try row.save(db)
            let mutation = Mutation(
                clientID: settings.clientID!, target: .init(entity: entity, id: id), operation: .delete,
                baseVersion: max(row.serverVersion, 1), hlc: try tick(db, settings: settings))
            try enqueue(db, mutation)
        }
    }

    /// Writes a comment on a community reflection.
    public func comment(on reflectionID: UUID, body: String, id: UUID = UUID()) throws -> Comment {
        let body = try validate { try Validation.commentBody(body) }
        return try pool.write { db in
            let settings = try requireInitialized(db)
            guard let parent = try LocalRow.load(db, .reflection, reflectionID), !parent.fields.deleted else {
                throw ClientError(
                    .notFound, "No reflection \(reflectionID.uuidString) here.", next: .listRecords)
            }
            guard parent.fields.visibility == .community else {
                throw ClientError(
                    .notAllowed, "Comments are only possible on community reflections; this one is private.")
            }
            let now = clock.now()
            let row = LocalRow(
                entity: .comment, id: id, authorID: settings.member?.id, reflectionID: reflectionID,
                fields: RecordFields(body: body, hidden: false), serverVersion: 0, serverFields: nil, createdAt: now,
                updatedAt: now, conflicted: false)
            try row.save(db)
            try enqueue(
                db,
                Mutation(
                    clientID: settings.clientID!, target: .init(entity: .comment, id: row.id), operation: .create,
                    changes: FieldChanges(body: body, reflectionID: reflectionID), hlc: try tick(db, settings: settings)
                ))
            return row.comment
        }
    }

    /// Ends the conflicts of a record: keep the current version, take the conflict revision (the newest, if
    /// there are several), or use merged text.
    public func resolve(_ entity: EntityKind = .reflection, id: UUID, choice: ResolveChoice) throws {
        try pool.write { db in
            let settings = try requireInitialized(db)
            var row = try requireOwn(db, entity, id, settings: settings, allowDeleted: true)
            let revisions = try Self.revisions(db, recordID: id)
            guard let newest = revisions.last else {
                throw ClientError(
                    .nothingToDo, "\(id.uuidString) has no open conflict.", next: .listConflicts)
            }
            var resolution = Resolution(choice: .keepCurrent, revisionIDs: revisions.map(\.id))
            var changes = FieldChanges()
            switch choice {
            case .keepCurrent:
                break
            case .takeRevision:
                resolution.choice = .takeRevision
                resolution.takenRevisionID = newest.id
                row.fields = newest.fields
            case .merged(let body):
                let text = try validate {
                    entity == .reflection ? try Validation.reflectionBody(body) : try Validation.commentBody(body)
                }
                resolution.choice = .merged
                changes.body = text
                row.fields.body = text
                row.fields.deleted = false
            }
            row.conflicted = false
            row.updatedAt = clock.now()
            try row.save(db)
            try db.execute(sql: "DELETE FROM revisions WHERE record_id = ?", arguments: [id.uuidString])
            try enqueue(
                db,
                Mutation(
                    clientID: settings.clientID!, target: .init(entity: entity, id: id), operation: .resolve,
                    baseVersion: max(row.serverVersion, 1), changes: changes, resolution: resolution,
                    hlc: try tick(db, settings: settings)))
        }
    }

    // MARK: Helpers

    func validate<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ValidationError {
            throw ClientError.invalid(error)
        }
    }

    func requireOwn(
        _ db: Database, _ entity: EntityKind, _ id: UUID, settings: ClientSettings, allowDeleted: Bool = false
    ) throws -> LocalRow {
        guard let row = try LocalRow.load(db, entity, id) else {
            throw ClientError(.notFound, "No \(entity.rawValue) \(id.uuidString) here.", next: .listRecords)
        }
        if let author = row.authorID, let me = settings.member?.id, author != me {
            throw ClientError(.notAllowed, "Only its author may change this \(entity.rawValue).")
        }
        if row.fields.deleted && !allowDeleted {
            throw ClientError(.notFound, "The \(entity.rawValue) \(id.uuidString) was deleted.")
        }
        return row
    }

    func update(_ row: LocalRow, changes: FieldChanges, settings: ClientSettings, db: Database) throws -> Mutation {
        Mutation(
            clientID: settings.clientID!, target: .init(entity: row.entity, id: row.id), operation: .update,
            baseVersion: max(row.serverVersion, 1), changes: changes, hlc: try tick(db, settings: settings))
    }

    /// Appends a mutation to the outbox, folding it into the record's last mutation if that one has never been
    /// sent: an edit into a pending create or update, a delete over a pending update (keeping its changes, for
    /// the conflict revision should the delete lose). A delete of a record that never left this device removes
    /// it and its mutations altogether.
    func enqueue(_ db: Database, _ mutation: Mutation) throws {
        let now = clock.now()
        let last = try Row.fetchOne(
            db,
            sql: """
                SELECT seq, mutation, sent, state FROM outbox WHERE record_id = ? ORDER BY seq DESC LIMIT 1
                """, arguments: [mutation.target.id.uuidString])
        if let last, last["sent"] == false, last["state"] == "pending",
            var previous = try? JSONDecoder().decode(Mutation.self, from: Data((last["mutation"] as String).utf8))
        {
            switch (previous.operation, mutation.operation) {
            case (.create, .update), (.update, .update):
                previous.changes = previous.changes.overlaid(with: mutation.changes)
                previous.hlc = mutation.hlc
                try db.execute(
                    sql: "UPDATE outbox SET mutation = ? WHERE seq = ?",
                    arguments: [try Self.json(previous), last["seq"] as Int64])
                try logEvent(
                    db, run: nil, direction: "local", mutation: mutation, outcome: "queued",
                    detail: "folded into the pending \(previous.operation.rawValue)")
                return
            case (.create, .delete):
                let sentBefore =
                    try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM outbox WHERE record_id = ? AND sent = 1",
                        arguments: [mutation.target.id.uuidString]) ?? false
                if !sentBefore {
                    try db.execute(
                        sql: "DELETE FROM outbox WHERE record_id = ?", arguments: [mutation.target.id.uuidString])
                    try LocalRow.delete(db, mutation.target.entity, mutation.target.id)
                    try logEvent(
                        db, run: nil, direction: "local", mutation: mutation, outcome: "discarded",
                        detail: "never synced: deleted locally")
                    return
                }
            case (.update, .delete):
                // The delete keeps the unsent edit's changes: the server never applies them, but if the delete
                // loses to another device's edit, they are kept in the conflict revision it makes, so that what
                // was typed here before deleting is not lost (and was never shown to anyone else).
                previous.operation = .delete
                previous.hlc = mutation.hlc
                try db.execute(
                    sql: "UPDATE outbox SET mutation = ?, operation = 'delete' WHERE seq = ?",
                    arguments: [try Self.json(previous), last["seq"] as Int64])
                try logEvent(
                    db, run: nil, direction: "local", mutation: mutation, outcome: "queued",
                    detail: "replaces the pending update")
                return
            default:
                break
            }
        }
        try db.execute(
            sql: """
                INSERT INTO outbox (mutation_id, entity, record_id, operation, mutation, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                mutation.id.uuidString, mutation.target.entity.rawValue, mutation.target.id.uuidString,
                mutation.operation.rawValue, try Self.json(mutation), now,
            ])
        try logEvent(db, run: nil, direction: "local", mutation: mutation, outcome: "queued", detail: nil)
    }

    /// Logs what happened to a pushed outbox entry.
    func logEvent(
        _ db: Database, run: Int64?, direction: String, entry: PendingPush, outcome: String, detail: String
    ) throws {
        try logEvent(
            db, run: run, direction: direction, mutation: nil, entity: entry.target.entity, recordID: entry.target.id,
            mutationID: entry.id, outcome: outcome, detail: detail)
    }

    func logEvent(
        _ db: Database, run: Int64?, direction: String, mutation: Mutation?, entity: EntityKind? = nil,
        recordID: UUID? = nil, mutationID: UUID? = nil, outcome: String, detail: String?
    ) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO sync_events (run_id, at, direction, entity, record_id, mutation_id, outcome, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                run, clock.now(), direction, (mutation?.target.entity ?? entity)?.rawValue,
                (mutation?.target.id ?? recordID)?.uuidString, (mutation?.id ?? mutationID)?.uuidString,
                outcome, detail ?? mutation.map { "\($0.operation.rawValue)" },
            ])
    }

    static func revisions(_ db: Database, recordID: UUID) throws -> [ConflictRevision] {
        try String.fetchAll(
            db, sql: "SELECT revision FROM revisions WHERE record_id = ?", arguments: [recordID.uuidString]
        )
        .compactMap { try? JSONDecoder().decode(ConflictRevision.self, from: Data($0.utf8)) }
        .sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
    }
}
