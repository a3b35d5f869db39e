import Foundation
import GRDB
import ReflectionsModel

/// Why a resync ran.
public enum ResyncReason: String, Sendable, Codable, Hashable {
    /// The server was restored from a backup (409 `server_restored`): its history after the backup is gone.
    case restored
    /// This device's cursor is older than the server's compaction horizon (410 `cursor_expired`): deletes it may
    /// not have heard of were compacted away.
    case expired
}

/// What a resync did (``SyncEngine`` runs one when the server says it was restored from a backup, or that this
/// device's cursor expired).
public struct ResyncReport: Sendable, Codable, Hashable {
    public var reason: ResyncReason
    /// Records the server sent.
    public var received: Int
    /// This member's records (or newer versions of them) the server lacked, queued to be sent again.
    public var resent: Int
    /// Other members' records the server no longer has, removed from this device.
    public var forgotten: Int
}

/// Resync: this device's copy is rebuilt from everything the server has, without losing anything this member
/// wrote.
///
/// After a restore the server's version numbers are those of another history (the ones given out after the
/// backup are given out again), so a resync never trusts a version number to say which text is newer. For each
/// of the member's own records the server sends:
/// - the same text as here: applied as usual (a pending change of it is already there, so it is dropped);
/// - another text: this device's text stays, and one update carrying all of it is queued against the record's
///   first version, so the server three-way merges it with whatever it has: a clean merge combines both, a clash
///   becomes a conflict revision for the member to resolve — never a silent overwrite. A deleted record sends a
///   delete the same way (the server keeps an edit over a delete). This is queued in the same transaction as the
///   page, so a resync cut off half-way and run again keeps it, as a pending change.
/// Open conflict revisions of the record that the server no longer has are written, whole, to the sync log.
/// At the end, in one transaction with the new cursor and epoch: the member's records the server lacks entirely
/// are queued as creates again (reflections before comments, and before any older pending change, which may
/// depend on them), and other members' records it lacks are removed (their authors' devices send them again).
/// Other members' records are applied as usual; pending and rejected changes of other records stay.
extension ClientStore {
    /// Starts a resync: forgets which records an earlier, interrupted one saw.
    func beginResync() throws {
        try pool.write { db in
            try db.execute(
                sql:
                    "CREATE TEMP TABLE IF NOT EXISTS resync_seen (entity TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (entity, id))"
            )
            try db.execute(sql: "DELETE FROM resync_seen")
        }
    }

    /// Applies one page of the server's whole content; returns how many of the member's records were re-queued.
    ///
    /// After an expiry the server's history is this device's own, so its pages are applied exactly as a pull
    /// would (pending edits rebased, their bases still on the server); the comparison of texts is for restores.
    func applyResyncPage(run: SyncRun, page: PullResponse, reason: ResyncReason) throws -> Int {
        try pool.write { db in
            let run = try run.id(db)
            let settings = try Self.settings(db)
            let me = settings.member?.id
            var resent = 0
            for change in page.changes {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO resync_seen (entity, id) VALUES (?, ?)",
                    arguments: [change.entity.rawValue, change.id.uuidString])
                // The server has it, so a create still waiting for its answer was applied (its answer was lost):
                // sending it again could meet a ledger entry compacted away and be refused as `already_exists`.
                try db.execute(
                    sql: "DELETE FROM outbox WHERE record_id = ? AND state = 'pending' AND operation = 'create'",
                    arguments: [change.id.uuidString])
                let incoming: (version: Int64, fields: RecordFields)? =
                    change.reflection.map { ($0.version, $0.fields) } ?? change.comment.map { ($0.version, $0.fields) }
                guard reason == .restored, let incoming, var local = try LocalRow.load(db, change.entity, change.id),
                    local.authorID == nil || local.authorID == me
                else {
                    try apply(db, change, run: run)
                    continue
                }
                try keepLostRevisions(db, run: run, change: change)
                if local.fields == incoming.fields {
                    // Nothing here that the server lacks: its pending changes are in the server's text already.
                    try db.execute(
                        sql: "DELETE FROM outbox WHERE record_id = ? AND state = 'pending' AND operation != 'create'",
                        arguments: [change.id.uuidString])
                    try apply(db, change, run: run)
                } else {
                    local.serverVersion = incoming.version
                    local.serverFields = incoming.fields
                    try local.save(db)
                    try requeue(
                        db, local, settings: settings, operation: local.fields.deleted ? .delete : .update,
                        base: 1)
                    resent += 1
                }
            }
            return resent
        }
    }

    /// Writes to the sync log, whole, every open conflict revision of the record that this device holds and the
    /// server no longer sends (made after the backup it was restored from).
    private func keepLostRevisions(_ db: Database, run: Int64, change: Change) throws {
        let sent = Set((change.revisions ?? []).map(\.id.uuidString))
        for row in try Row.fetchAll(
            db, sql: "SELECT id, revision FROM revisions WHERE record_id = ?", arguments: [change.id.uuidString])
        where !sent.contains(row["id"] as String) {
            let revision = try? JSONDecoder().decode(
                ConflictRevision.self, from: Data((row["revision"] as String).utf8))
            let fields = revision.map { [$0.fields.title, $0.fields.body].compactMap { $0 }.joined(separator: "\n") }
            try logEvent(
                db, run: run, direction: "pull", mutation: nil, entity: change.entity, recordID: change.id,
                outcome: "kept",
                detail: "a conflict version the restored server no longer has: "
                    + (fields ?? (row["revision"] as String)))
        }
    }

    /// Ends a resync: the records the server lacks, the new cursor and epoch, and a log entry, in one transaction.
    func finishResync(
        run: SyncRun, reason: ResyncReason, cursor: Int64, epoch: String?, received: Int, resentSoFar: Int
    ) throws -> ResyncReport {
        try pool.write { db in
            let run = try run.id(db)
            let settings = try Self.settings(db)
            let me = settings.member?.id.uuidString
            var report = ResyncReport(reason: reason, received: received, resent: resentSoFar, forgotten: 0)
            let firstNew = (try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM outbox") ?? 0) + 1
            for entity in [EntityKind.reflection, .comment] {
                let table = LocalRow.table(entity)
                let missing = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM \(table) WHERE server_version > 0
                            AND id NOT IN (SELECT id FROM resync_seen WHERE entity = ?)
                        """, arguments: [entity.rawValue]
                ).map { LocalRow($0, entity: entity) }
                for var row in missing {
                    let mine = row.authorID == nil || row.authorID?.uuidString == me
                    // Restored: the server lost it, so it is sent again. Expired: a reflection of one's own is never
                    // hidden from oneself, so it was deleted (and compacted) elsewhere, and goes — unless this device
                    // changed it meanwhile: an edit wins over a delete. An own comment may instead be hidden (its
                    // reflection is private now): one with pending changes keeps them, to be answered by the
                    // server's rules (kept as rejected if refused), and one without leaves the device.
                    let pending =
                        try Int.fetchOne(
                            db, sql: "SELECT COUNT(*) FROM outbox WHERE record_id = ? AND state = 'pending'",
                            arguments: [row.id.uuidString]) ?? 0
                    // An own comment whose reflection is still here was deleted (and compacted) elsewhere, as a
                    // reflection would be; one whose reflection is gone or hidden keeps its pending changes.
                    let parentSeen =
                        entity == .comment
                        ? try Bool.fetchOne(
                            db, sql: "SELECT EXISTS (SELECT 1 FROM resync_seen WHERE entity = 'reflection' AND id = ?)",
                            arguments: [row.reflectionID?.uuidString]) ?? false : true
                    // A comment comes back only with text that no device could have seen when it was deleted:
                    // an edit never sent (one sent may have been applied, then seen and deleted), that changed the
                    // text, of a comment no moderator hid. Otherwise its pending change stays, to be answered as
                    // rejected with its text kept.
                    let unsent =
                        try Int.fetchOne(
                            db,
                            sql: "SELECT COUNT(*) FROM outbox WHERE record_id = ? AND state = 'pending' AND sent = 0",
                            arguments: [row.id.uuidString]) ?? 0
                    let revivable =
                        entity == .reflection
                        || (parentSeen && unsent > 0 && row.fields.hidden != true
                            && row.serverFields?.hidden != true && row.serverFields?.body != row.fields.body)
                    if mine && !row.fields.deleted && reason == .expired && pending > 0 && !revivable {
                        continue
                    }
                    if mine && !row.fields.deleted && reason == .expired && pending > 0 {
                        // Deleted elsewhere and compacted: its id can never be used again (the server keeps it so
                        // that nothing deleted comes back), so the edit made here is kept as a new record, as the
                        // merge keeps an edit made while another device deleted (an edit wins over a delete). A
                        // reflection comes back private, whatever it was, so that nothing its author withdrew is
                        // shown again; a comment goes under the same reflection, where its text was.
                        var copy = row
                        copy.id = UUID()
                        copy.serverVersion = 0
                        copy.serverFields = nil
                        if entity == .reflection { copy.fields.visibility = .private }
                        try db.execute(
                            sql: "DELETE FROM outbox WHERE record_id = ? AND state = 'pending'",
                            arguments: [row.id.uuidString])
                        try LocalRow.delete(db, entity, row.id)
                        try copy.save(db)
                        try requeue(db, copy, settings: settings, operation: .create, base: nil)
                        try logEvent(
                            db, run: run, direction: "pull", mutation: nil, entity: entity, recordID: copy.id,
                            outcome: "kept",
                            detail: "edited here after it was deleted on another device: kept as a new "
                                + (entity == .reflection ? "private reflection" : "comment")
                                + " (it was \(row.id.uuidString.prefix(8)))")
                        report.resent += 1
                        continue
                    }
                    if mine && !row.fields.deleted && (reason == .restored || pending > 0) {
                        row.serverVersion = 0
                        row.serverFields = nil
                        try row.save(db)
                        try requeue(db, row, settings: settings, operation: .create, base: nil)
                        report.resent += 1
                    } else {
                        try db.execute(
                            sql: "DELETE FROM outbox WHERE record_id = ? AND state = 'pending'",
                            arguments: [row.id.uuidString])
                        try LocalRow.delete(db, entity, row.id)
                        try db.execute(sql: "DELETE FROM revisions WHERE record_id = ?", arguments: [row.id.uuidString])
                        if !mine { report.forgotten += 1 }
                    }
                }
            }
            // Re-created records go before the older pending changes, which may depend on them (a comment on a
            // reflection the server lost); the older ones keep their order.
            try db.execute(
                sql: """
                    CREATE TEMP TABLE resync_moved AS SELECT * FROM outbox WHERE state = 'pending' AND seq < ?;
                    DELETE FROM outbox WHERE state = 'pending' AND seq < ?;
                    INSERT INTO outbox (mutation_id, entity, record_id, operation, mutation, created_at, sent, state)
                        SELECT mutation_id, entity, record_id, operation, mutation, created_at, sent, state
                        FROM resync_moved ORDER BY seq;
                    DROP TABLE resync_moved;
                    """, arguments: [firstNew, firstNew])
            try db.execute(sql: "DELETE FROM resync_seen")
            try Self.set(db, .cursor, String(cursor))
            try Self.set(db, .epoch, epoch)
            let why =
                switch reason {
                case .restored: "the server was restored from a backup"
                case .expired: "this device had not synced since changes it held were compacted on the server"
                }
            try logEvent(
                db, run: run, direction: "pull", mutation: nil, outcome: "resync",
                detail:
                    "\(why): received \(report.received), sent again \(report.resent), removed \(report.forgotten) "
                    + "it no longer has")
            return report
        }
    }

    /// Replaces the record's pending changes with one that carries its whole text (as a new record, or against
    /// version `base`): what this device shows is what the server gets, merged with what it has.
    private func requeue(
        _ db: Database, _ row: LocalRow, settings: ClientSettings, operation: Mutation.Operation, base: Int64?
    ) throws {
        try db.execute(
            sql: "DELETE FROM outbox WHERE record_id = ? AND state = 'pending'", arguments: [row.id.uuidString])
        let fields = row.fields
        let changes: FieldChanges =
            switch row.entity {
            case .reflection:
                FieldChanges(
                    title: fields.title, body: fields.body, visibility: fields.visibility, promptID: fields.promptID)
            case .comment:
                operation == .create
                    ? FieldChanges(body: fields.body, reflectionID: row.reflectionID) : FieldChanges(body: fields.body)
            }
        try enqueue(
            db,
            Mutation(
                clientID: settings.clientID!, target: .init(entity: row.entity, id: row.id), operation: operation,
                baseVersion: operation == .create ? nil : base,
                changes: operation == .delete ? FieldChanges() : changes, hlc: try tick(db, settings: settings)))
    }
}
