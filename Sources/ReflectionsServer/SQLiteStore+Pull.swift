import Foundation
import GRDB
import ReflectionsModel

extension SQLiteStore {
    /// The changes after `since` that `member` may see.
    ///
    /// Each record appears once, at the sequence number of its latest change. What a member receives of a
    /// record they did not write (``PullRules``): its content while it is shared; a tombstone or removal once it
    /// no longer is, but only if it was shared at or before `since` (so the member may hold it). A member never
    /// receives anything of a reflection that was never shared with them — not even its id.
    ///
    /// When the page is not full, `nextCursor` is the newest sequence number of the whole log, so the next pull
    /// after a quiet period scans nothing, whatever the size of the database.
    public func pull(for member: Member, since: Int64, limit: Int) async throws -> PullResponse {
        try await pool.read { db in
            let me = member.id.uuidString
            let reflections = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM reflections
                    WHERE seq > ? AND (author_id = ? OR first_shared_seq IS NOT NULL)
                    ORDER BY seq LIMIT ?
                    """, arguments: [since, me, limit + 1]
            ).map(StoredRecord.init(reflectionRow:))
            let commentRows = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.*, r.author_id AS parent_author_id, r.visibility AS parent_visibility,
                        r.deleted AS parent_deleted
                    FROM comments c JOIN reflections r ON r.id = c.reflection_id
                    WHERE c.seq > ? AND (r.author_id = ? OR c.author_id = ? OR r.first_shared_seq IS NOT NULL)
                    ORDER BY c.seq LIMIT ?
                    """, arguments: [since, me, me, limit + 1])
            var scanned: [(seq: Int64, change: Change?)] = []
            for record in reflections {
                scanned.append(
                    (record.seq, try Self.change(forReflection: record, member: member, since: since, db: db)))
            }
            for row in commentRows {
                let record = StoredRecord(commentRow: row)
                let parent = PullRules.Parent(
                    authorID: UUID(uuidString: row["parent_author_id"])!,
                    shared: row["parent_visibility"] == "community" && !(row["parent_deleted"] as Bool))
                scanned.append(
                    (
                        record.seq,
                        try Self.change(forComment: record, parent: parent, member: member, since: since, db: db)
                    ))
            }
            scanned.sort { $0.seq < $1.seq }
            let hasMore = scanned.count > limit
            let page = scanned.prefix(limit)
            let nextCursor: Int64
            if hasMore, let last = page.last {
                nextCursor = last.seq
            } else {
                let head = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM change_log") ?? 0
                nextCursor = max(since, head)
            }
            return PullResponse(changes: page.compactMap(\.change), nextCursor: nextCursor, hasMore: hasMore)
        }
    }

    static func change(forReflection record: StoredRecord, member: Member, since: Int64, db: Database) throws -> Change?
    {
        guard let kind = PullRules.kind(forReflection: record, viewer: member.id, since: since) else { return nil }
        var reflection = record.reflection
        var revisions: [ConflictRevision]?
        if record.authorID == member.id {
            revisions = try openRevisions(db, recordID: record.id)
            reflection.conflicted = !(revisions ?? []).isEmpty
        }
        if kind != .upsert {
            reflection.title = ""
            reflection.body = ""
        }
        return Change(
            sequence: record.seq, entity: .reflection, id: record.id, kind: kind,
            reflection: kind == .removal ? nil : reflection, revisions: kind == .upsert ? revisions : nil)
    }

    static func change(
        forComment record: StoredRecord, parent: PullRules.Parent, member: Member, since: Int64, db: Database
    ) throws -> Change? {
        guard let kind = PullRules.kind(forComment: record, parent: parent, viewer: member.id, since: since) else {
            return nil
        }
        var comment = record.comment
        var revisions: [ConflictRevision]?
        if record.authorID == member.id {
            revisions = try openRevisions(db, recordID: record.id)
            comment.conflicted = !(revisions ?? []).isEmpty
        }
        if kind != .upsert { comment.body = "" }
        return Change(
            sequence: record.seq, entity: .comment, id: record.id, kind: kind,
            comment: kind == .removal ? nil : comment,
            revisions: kind == .upsert ? revisions : nil)
    }

    public func log(for member: Member?, since: Int64, limit: Int) async throws -> LogResponse {
        try await pool.read { db in
            let rows: [Row]
            if let member {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM change_log WHERE member_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                    arguments: [member.id.uuidString, since, limit + 1])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?",
                    arguments: [since, limit + 1])
            }
            let entries = rows.prefix(limit).map { row in
                LogEntry(
                    sequence: row["seq"], entity: EntityKind(rawValue: row["entity"]) ?? .reflection,
                    recordID: UUID(uuidString: row["record_id"])!,
                    clientID: (row["client_id"] as String?).flatMap { UUID(uuidString: $0) },
                    mutationID: (row["mutation_id"] as String?).flatMap { UUID(uuidString: $0) },
                    operation: row["operation"],
                    outcome: row["outcome"], at: row["at"])
            }
            return LogResponse(
                entries: Array(entries), nextCursor: entries.last?.sequence ?? since, hasMore: rows.count > limit)
        }
    }
}
