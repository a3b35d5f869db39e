import Foundation
import ReflectionsModel

/// The pull and log rules, written once for both engines; they run inside one read transaction (one snapshot).
enum SQLStorePull {
    /// The changes after `since` that `member` may see.
    ///
    /// Each record appears once, at the sequence number of its latest change. What a member receives of a
    /// record they did not write (``PullRules``): its content while it is shared; a tombstone or removal once it
    /// no longer is, but only if it was shared at or before `since` (so the member may hold it). A member never
    /// receives anything of a reflection that was never shared with them — not even its id.
    ///
    /// When the page is not full, `nextCursor` is the newest sequence number of the whole log, so the next pull
    /// after a quiet period scans nothing, whatever the size of the database.
    static func pull(_ tx: any SQLTransaction, for member: Member, since: Int64, limit: Int) throws -> PullResponse {
        let me = member.id.uuidString
        let reflections = try tx.fetchAll(
            """
            SELECT * FROM reflections
            WHERE seq > ? AND (author_id = ? OR first_shared_seq IS NOT NULL)
            ORDER BY seq LIMIT ?
            """, since, me, limit + 1
        ).map(StoredRecord.init(reflectionRow:))
        let commentRows = try tx.fetchAll(
            """
            SELECT c.*, r.author_id AS parent_author_id, r.visibility AS parent_visibility,
                r.deleted AS parent_deleted
            FROM comments c JOIN reflections r ON r.id = c.reflection_id
            WHERE c.seq > ? AND (r.author_id = ? OR c.author_id = ? OR r.first_shared_seq IS NOT NULL)
            ORDER BY c.seq LIMIT ?
            """, since, me, me, limit + 1)
        var scanned: [(seq: Int64, change: Change?)] = []
        for record in reflections {
            scanned.append(
                (record.seq, try change(forReflection: record, member: member, since: since, tx: tx)))
        }
        for row in commentRows {
            let record = StoredRecord(commentRow: row)
            let parent = PullRules.Parent(
                authorID: row.uuid("parent_author_id"),
                shared: row.text("parent_visibility") == "community" && !row.bool("parent_deleted"))
            scanned.append(
                (
                    record.seq,
                    try change(forComment: record, parent: parent, member: member, since: since, tx: tx)
                ))
        }
        scanned.sort { $0.seq < $1.seq }
        let hasMore = scanned.count > limit
        let page = scanned.prefix(limit)
        let nextCursor: Int64
        if hasMore, let last = page.last {
            nextCursor = last.seq
        } else {
            let head = try tx.fetchOne("SELECT MAX(seq) AS head FROM change_log")?.optionalInteger("head") ?? 0
            nextCursor = max(since, head)
        }
        return PullResponse(changes: page.compactMap(\.change), nextCursor: nextCursor, hasMore: hasMore)
    }

    static func change(forReflection record: StoredRecord, member: Member, since: Int64, tx: any SQLTransaction)
        throws -> Change?
    {
        guard let kind = PullRules.kind(forReflection: record, viewer: member.id, since: since) else { return nil }
        var reflection = record.reflection
        var revisions: [ConflictRevision]?
        if record.authorID == member.id {
            revisions = try SQLStorePush.openRevisions(tx, recordID: record.id)
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
        forComment record: StoredRecord, parent: PullRules.Parent, member: Member, since: Int64,
        tx: any SQLTransaction
    ) throws -> Change? {
        guard let kind = PullRules.kind(forComment: record, parent: parent, viewer: member.id, since: since) else {
            return nil
        }
        var comment = record.comment
        var revisions: [ConflictRevision]?
        if record.authorID == member.id {
            revisions = try SQLStorePush.openRevisions(tx, recordID: record.id)
            comment.conflicted = !(revisions ?? []).isEmpty
        }
        if kind != .upsert { comment.body = "" }
        return Change(
            sequence: record.seq, entity: .comment, id: record.id, kind: kind,
            comment: kind == .removal ? nil : comment,
            revisions: kind == .upsert ? revisions : nil)
    }

    static func log(_ tx: any SQLTransaction, for member: Member?, since: Int64, limit: Int) throws -> LogResponse {
        let rows: [SQLRow]
        if let member {
            rows = try tx.fetchAll(
                "SELECT * FROM change_log WHERE member_id = ? AND seq > ? ORDER BY seq LIMIT ?", member.id, since,
                limit + 1)
        } else {
            rows = try tx.fetchAll("SELECT * FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?", since, limit + 1)
        }
        let entries = rows.prefix(limit).map { row in
            LogEntry(
                sequence: row.integer("seq"), entity: EntityKind(rawValue: row.text("entity")) ?? .reflection,
                recordID: row.uuid("record_id"),
                clientID: row.optionalText("client_id").flatMap { UUID(uuidString: $0) },
                mutationID: row.optionalText("mutation_id").flatMap { UUID(uuidString: $0) },
                operation: row.text("operation"), outcome: row.text("outcome"), at: row.integer("at"))
        }
        return LogResponse(
            entries: Array(entries), nextCursor: entries.last?.sequence ?? since, hasMore: rows.count > limit)
    }
}
