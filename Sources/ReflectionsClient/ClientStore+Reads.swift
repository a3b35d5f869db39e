import Foundation
import GRDB
import ReflectionsModel

extension ClientStore {
    /// Finds a record by its full id or by a unique prefix of at least 4 characters (as git does).
    public func resolveID(_ text: String, entity: EntityKind? = nil) throws -> (EntityKind, UUID) {
        let needle = text.trimmingCharacters(in: .whitespaces).uppercased()
        if let id = UUID(uuidString: needle) {
            return try pool.read { db in
                for kind in entity.map({ [$0] }) ?? EntityKind.allCases where try LocalRow.load(db, kind, id) != nil {
                    return (kind, id)
                }
                throw ClientError(
                    .notFound, "No reflection or comment \(id.uuidString) here.", next: .listRecords)
            }
        }
        guard needle.count >= 4, needle.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw ClientError(
                .invalidInput, "'\(text)' is not an id: give the full id or at least its first 4 characters.")
        }
        return try pool.read { db in
            var found: [(EntityKind, UUID)] = []
            for kind in entity.map({ [$0] }) ?? EntityKind.allCases {
                for id in try String.fetchAll(
                    db, sql: "SELECT id FROM \(LocalRow.table(kind)) WHERE id LIKE ? LIMIT 3", arguments: [needle + "%"]
                ) {
                    found.append((kind, UUID(uuidString: id)!))
                }
            }
            guard let first = found.first else {
                throw ClientError(
                    .notFound, "No reflection or comment starts with '\(text)'.", next: .listRecords)
            }
            guard found.count == 1 else {
                let matches = found.map { "\($0.0.rawValue) \($0.1.uuidString)" }.joined(separator: ", ")
                throw ClientError(
                    .ambiguousID, "'\(text)' matches several records (\(matches)): give more of the id.")
            }
            return first
        }
    }

    /// The reflections this device holds, newest first (deleted ones left out).
    public func reflections(mine: Bool = false, promptID: Int? = nil) throws -> [LocalReflection] {
        try pool.read { db in
            let settings = try Self.settings(db)
            var sql = "SELECT * FROM reflections WHERE deleted = 0"
            var arguments: [(any DatabaseValueConvertible)?] = []
            if mine {
                sql += " AND (author_id IS NULL OR author_id = ?)"
                arguments.append(settings.member?.id.uuidString ?? "")
            }
            if let promptID {
                sql += " AND prompt_id = ?"
                arguments.append(promptID)
            }
            sql += " ORDER BY created_at DESC, id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                try Self.localReflection(
                    db, LocalRow(row, entity: .reflection), settings: settings, withComments: false)
            }
        }
    }

    /// One reflection with its comments and open conflicts.
    public func reflection(id: UUID) throws -> LocalReflection {
        try pool.read { db in
            guard let row = try LocalRow.load(db, .reflection, id) else {
                throw ClientError(.notFound, "No reflection \(id.uuidString) here.", next: .listRecords)
            }
            return try Self.localReflection(db, row, settings: try Self.settings(db), withComments: true)
        }
    }

    /// One comment.
    public func comment(id: UUID) throws -> LocalComment {
        try pool.read { db in
            guard let row = try LocalRow.load(db, .comment, id) else {
                throw ClientError(.notFound, "No comment \(id.uuidString) here.")
            }
            let settings = try Self.settings(db)
            return LocalComment(
                comment: Self.named(row.comment, settings),
                isMine: row.authorID == nil || row.authorID == settings.member?.id,
                pendingMutations: try Self.pendingCount(db, row.id))
        }
    }

    /// Every comment this device holds (deleted ones left out), oldest first.
    public func comments() throws -> [LocalComment] {
        try pool.read { db in
            let settings = try Self.settings(db)
            let me = settings.member?.id
            return try Row.fetchAll(db, sql: "SELECT * FROM comments WHERE deleted = 0 ORDER BY created_at, id").map {
                row in
                let comment = LocalRow(row, entity: .comment)
                return LocalComment(
                    comment: Self.named(comment.comment, settings),
                    isMine: comment.authorID == nil || comment.authorID == me,
                    pendingMutations: try Self.pendingCount(db, comment.id))
            }
        }
    }

    /// A record's author name as this device shows it: the member's own current name for their own writing
    /// (kept by login, `reflect account`, and pulls of their shared records), else the name the server last sent.
    static func ownName(_ authorID: UUID?, _ stored: String?, _ settings: ClientSettings) -> String? {
        authorID == nil || authorID == settings.member?.id ? settings.member?.displayName ?? stored : stored
    }

    /// A comment with its author's name as this device shows it (``ownName(_:_:_:)``).
    static func named(_ comment: Comment, _ settings: ClientSettings) -> Comment {
        var comment = comment
        comment.authorName = ownName(comment.authorID, comment.authorName, settings)
        return comment
    }

    static func pendingCount(_ db: Database, _ id: UUID) throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM outbox WHERE record_id = ? AND state = 'pending'", arguments: [id.uuidString]
        )
            ?? 0
    }

    static func localReflection(_ db: Database, _ row: LocalRow, settings: ClientSettings, withComments: Bool) throws
        -> LocalReflection
    {
        let me = settings.member?.id
        var comments: [LocalComment] = []
        if withComments {
            comments = try Row.fetchAll(
                db, sql: "SELECT * FROM comments WHERE reflection_id = ? AND deleted = 0 ORDER BY created_at, id",
                arguments: [row.id.uuidString]
            ).map { commentRow in
                let comment = LocalRow(commentRow, entity: .comment)
                return LocalComment(
                    comment: named(comment.comment, settings),
                    isMine: comment.authorID == nil || comment.authorID == me,
                    pendingMutations: try pendingCount(db, comment.id))
            }
        }
        let revisions = try revisions(db, recordID: row.id)
        var reflection = row.reflection
        reflection.conflicted = !revisions.isEmpty
        reflection.authorName = ownName(row.authorID, reflection.authorName, settings)
        return LocalReflection(
            reflection: reflection, isMine: row.authorID == nil || row.authorID == me,
            pendingMutations: try pendingCount(db, row.id), comments: comments, revisions: revisions,
            serverFields: row.serverFields)
    }

    /// Every record with open conflicts.
    public func conflicts() throws -> [ConflictSummary] {
        try pool.read { db in
            let ids = try Row.fetchAll(db, sql: "SELECT DISTINCT entity, record_id FROM revisions ORDER BY record_id")
            return try ids.compactMap { row in
                let entity = EntityKind(rawValue: row["entity"]) ?? .reflection
                guard let id = UUID(uuidString: row["record_id"]) else { return nil }
                let local = try LocalRow.load(db, entity, id)
                return ConflictSummary(
                    entity: entity, recordID: id,
                    title: local?.fields.title ?? String((local?.fields.body ?? "").prefix(60)),
                    revisions: try Self.revisions(db, recordID: id))
            }
        }
    }

    /// The outbox entries that are still pending or were rejected.
    public func outbox() throws -> [OutboxEntry] {
        try pool.read { db in try Self.outbox(db) }
    }

    static func outbox(_ db: Database, state: String? = nil) throws -> [OutboxEntry] {
        var sql = "SELECT * FROM outbox"
        var arguments: [String] = []
        if let state {
            sql += " WHERE state = ?"
            arguments.append(state)
        }
        return try Row.fetchAll(db, sql: sql + " ORDER BY seq", arguments: StatementArguments(arguments)).map { row in
            let mutation = try? JSONDecoder().decode(Mutation.self, from: Data((row["mutation"] as String).utf8))
            return OutboxEntry(
                mutationID: UUID(uuidString: row["mutation_id"])!,
                entity: EntityKind(rawValue: row["entity"]) ?? .reflection,
                recordID: UUID(uuidString: row["record_id"])!, operation: row["operation"],
                createdAt: row["created_at"],
                state: row["state"], rejectCode: row["reject_code"], rejectReason: row["reject_reason"],
                text: mutation?.changes.body ?? mutation?.changes.title)
        }
    }

    /// How many local changes wait to be pushed.
    public func pendingCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 0 }
    }

    /// Local changes waiting that no sync has tried to send yet (not rejected, not in flight): what a watching
    /// sync looks for.
    public func unsentCount() throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND sent = 0") ?? 0
        }
    }

    /// What `reflect status` shows.
    public func status() throws -> StoreStatus {
        let quiet = (try? FileManager.default.attributesOfItem(atPath: quietSyncMarker)[.modificationDate] as? Date)
            .map { Int64($0.timeIntervalSince1970 * 1000) }
        return try pool.read { db in
            let settings = try Self.settings(db)
            let pending = try Row.fetchOne(
                db, sql: "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE state = 'pending'")
            let conflicts = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT record_id) FROM revisions") ?? 0
            let last = try Self.runs(db, limit: 1).first
            let resync = try Row.fetchOne(
                db, sql: "SELECT at, detail FROM sync_events WHERE outcome = 'resync' ORDER BY id DESC LIMIT 1")
            return StoreStatus(
                server: settings.serverURL, member: settings.member?.handle, loggedIn: settings.token != nil,
                clientID: settings.clientID?.uuidString, pendingMutations: pending?["n"] ?? 0,
                oldestPendingAt: pending?["oldest"], rejectedMutations: try Self.outbox(db, state: "rejected"),
                lastSync: last, upToDateAt: quiet.flatMap { $0 > (last?.startedAt ?? 0) ? $0 : nil },
                openConflicts: conflicts, cursor: settings.cursor,
                lastResync: resync.map { LastResync(at: $0["at"], detail: $0["detail"] ?? "") })
        }
    }

    /// The newest sync runs, newest first.
    public func runs(limit: Int) throws -> [SyncRunRecord] {
        try pool.read { db in try Self.runs(db, limit: limit) }
    }

    static func runs(_ db: Database, limit: Int) throws -> [SyncRunRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM sync_runs ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
            SyncRunRecord(
                id: row["id"], startedAt: row["started_at"], finishedAt: row["finished_at"], status: row["status"],
                pushed: row["pushed"], pulled: row["pulled"], merged: row["merged"], conflicts: row["conflicts"],
                rejected: row["rejected"], error: row["error"])
        }
    }

    /// The newest events of the sync log, oldest first.
    public func events(limit: Int) throws -> [SyncEventRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM (SELECT * FROM sync_events ORDER BY id DESC LIMIT ?) ORDER BY id",
                arguments: [limit]
            ).map { row in
                SyncEventRecord(
                    id: row["id"], runID: row["run_id"], at: row["at"], direction: row["direction"],
                    entity: row["entity"],
                    recordID: row["record_id"], mutationID: row["mutation_id"], outcome: row["outcome"],
                    detail: row["detail"])
            }
        }
    }
}
