import Foundation
import ReflectionsModel

/// The pull and log rules, written once for both engines; they run inside one read transaction (one snapshot).
enum SQLStorePull {
    /// The changes after `since` that `member` may see, as ``Access`` decides.
    ///
    /// Each record appears once, at the sequence number of its latest change. The SQL only narrows the candidates
    /// (``Access/candidateSQL``); every candidate then passes ``Access/pullKind(of:to:since:)``, so a member never
    /// receives anything of a reflection that was never shared with them — not even its id — and a record that
    /// left their sight arrives as its entity and id alone.
    ///
    /// When the page is not full, `nextCursor` is the newest sequence number of the whole log, so the next pull
    /// after a quiet period scans nothing, whatever the size of the database.
    static func pull(
        _ tx: any SQLTransaction, for member: Member, since: Int64, limit: Int, fullDownload: Bool = false,
        downloadHorizon: Int64? = nil
    ) throws -> PullResponse {
        // From the pull's own snapshot: a cursor below the horizon may have missed a compacted delete; so may a
        // download from 0 whose horizon moved between its pages.
        let state = try databaseState(tx)
        if since > 0 && since < state.horizon && !fullDownload { throw ServerError.cursorExpired }
        if since > 0, fullDownload, let downloadHorizon, downloadHorizon < state.horizon {
            throw ServerError.cursorExpired
        }
        let me = member.id.uuidString
        let viewer = Access.Viewer(member)
        let reflections = try tx.fetchAll(
            """
            SELECT * FROM reflections
            WHERE seq > ? AND \(Access.candidateSQL)
            ORDER BY seq LIMIT ?
            """, since, me, limit + 1
        ).map(StoredRecord.init(reflectionRow:))
        let comments = try tx.fetchAll(
            """
            \(StoredRecord.commentWithParentSQL)
            WHERE c.seq > ? AND \(Access.commentCandidateSQL)
            ORDER BY c.seq LIMIT ?
            """, since, me, me, limit + 1
        ).map(StoredRecord.init(commentRow:))
        var scanned = (reflections + comments).map { record in
            (record: record, kind: Access.pullKind(of: record.subject, to: viewer, since: since))
        }
        scanned.sort { $0.record.seq < $1.record.seq }
        let hasMore = scanned.count > limit
        let page = scanned.prefix(limit)
        let nextCursor: Int64
        if hasMore, let last = page.last {
            nextCursor = last.record.seq
        } else {
            let head = try tx.fetchOne("SELECT MAX(seq) AS head FROM change_log")?.optionalInteger("head") ?? 0
            nextCursor = max(since, head)
        }
        // The open conflict revisions of the page's records that the viewer may receive them for: one query per
        // page, not one per record.
        let withRevisions = page.compactMap { entry in
            entry.kind.flatMap {
                Access.receivesRevisions(of: entry.record.subject, viewer, kind: $0) ? entry.record : nil
            }
        }
        let revisions = try SQLStorePush.openRevisions(tx, of: withRevisions)
        var changes = page.compactMap { entry in
            entry.kind.map { change(for: entry.record, kind: $0, viewer: viewer, revisions: revisions) }
        }
        try name(&changes, tx)
        // The horizon only where a download from 0 needs it (its first page), so that the pulls of a quiet device
        // stay as small as they were.
        return PullResponse(
            changes: changes, nextCursor: nextCursor, hasMore: hasMore, epoch: state.epoch,
            horizon: since == 0 || fullDownload ? state.horizon : nil)
    }

    /// The database's epoch and compaction horizon.
    static func databaseState(_ tx: any SQLTransaction) throws -> (epoch: String, horizon: Int64) {
        let row = try tx.fetchOne("SELECT epoch, horizon FROM server_epoch WHERE id = 1")
        return (row?.text("epoch") ?? "", row?.integer("horizon") ?? 0)
    }

    /// What `viewer` receives of one record, as ``Access`` decided (`kind`): its entity and id alone, or the record
    /// (with its open conflict revisions, for its author, from `open`).
    static func change(
        for record: StoredRecord, kind: Change.Kind, viewer: Access.Viewer,
        revisions open: [SQLStorePush.RecordKey: [ConflictRevision]]
    ) -> Change {
        let subject = record.subject
        if kind == .removal || (kind != .upsert && Access.redactsLeaving(subject, to: viewer)) {
            return Change(sequence: record.seq, entity: record.entity, id: record.id, kind: kind)
        }
        var revisions: [ConflictRevision]?
        if Access.receivesRevisions(of: subject, viewer, kind: kind) {
            revisions = open[SQLStorePush.RecordKey(record)] ?? []
        }
        let conflicted = !(revisions ?? []).isEmpty
        switch record.entity {
        case .reflection:
            var reflection = record.reflection
            reflection.conflicted = conflicted
            if kind != .upsert {
                reflection.title = ""
                reflection.body = ""
            }
            return Change(
                sequence: record.seq, entity: .reflection, id: record.id, kind: kind, reflection: reflection,
                revisions: revisions)
        case .comment:
            var comment = record.comment
            comment.conflicted = conflicted
            if kind != .upsert { comment.body = "" }
            return Change(
                sequence: record.seq, entity: .comment, id: record.id, kind: kind, comment: comment,
                revisions: revisions)
        }
    }

    /// Adds the author's display name to each record the page carries, with one query per page. A name travels
    /// only inside a record that ``Access`` already gave the viewer (a removal or a redacted tombstone carries no
    /// record, so no name): no member learns a name they had no record of.
    static func name(_ changes: inout [Change], _ tx: any SQLTransaction) throws {
        let authors = Array(Set(changes.compactMap { $0.reflection?.authorID ?? $0.comment?.authorID }))
        guard !authors.isEmpty else { return }
        var names: [UUID: String] = [:]
        for chunk in SQLList.chunks(authors) {
            let rows = try tx.fetchAll(
                "SELECT id, display_name FROM members WHERE id IN (\(SQLList.placeholders(chunk.count)))",
                chunk.map(\.sqlValue))
            for row in rows { names[row.uuid("id")] = row.text("display_name") }
        }
        for index in changes.indices {
            if let author = changes[index].reflection?.authorID {
                changes[index].reflection?.authorName = names[author]
            }
            if let author = changes[index].comment?.authorID { changes[index].comment?.authorName = names[author] }
        }
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
        let viewer = member.map(Access.Viewer.init)
        let entries = rows.prefix(limit).filter { row in
            viewer.map { Access.readsLogEntry(by: row.uuid("member_id"), $0) } ?? true
        }.map { row in
            LogEntry(
                sequence: row.integer("seq"), entity: EntityKind(rawValue: row.text("entity")) ?? .reflection,
                recordID: row.uuid("record_id"),
                clientID: row.optionalText("client_id").flatMap(UUIDText.parse),
                mutationID: row.optionalText("mutation_id").flatMap(UUIDText.parse),
                operation: row.text("operation"), outcome: row.text("outcome"), at: row.integer("at"))
        }
        return LogResponse(
            entries: Array(entries), nextCursor: rows.prefix(limit).last?.integer("seq") ?? since,
            hasMore: rows.count > limit)
    }
}
