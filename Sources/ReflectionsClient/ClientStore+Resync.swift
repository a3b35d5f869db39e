import Foundation
import GRDB
import ReflectionsModel

/// What a resync did (``SyncEngine`` runs one when the server says it was restored from a backup).
public struct ResyncReport: Sendable, Codable, Hashable {
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
/// Pages are applied as in a pull, except where this device holds a newer version of one of the member's own
/// records than the server (written after the backup the server was restored from): that text stays, and a full
/// update from the server's version is queued in the same transaction (so a resync cut off half-way and run again
/// keeps it, as a pending change). At the end, in one transaction with the new cursor and epoch: the member's
/// records the server lacks entirely are queued as creates again (reflections before comments), and other
/// members' records it lacks are removed (their authors' devices send them again if they still hold them).
/// Pending and rejected changes stay.
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
    func applyResyncPage(run: SyncRun, page: PullResponse) throws -> Int {
        try pool.write { db in
            let run = try run.id(db)
            let settings = try Self.settings(db)
            let me = settings.member?.id
            var resent = 0
            for change in page.changes {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO resync_seen (entity, id) VALUES (?, ?)",
                    arguments: [change.entity.rawValue, change.id.uuidString])
                let incoming: (version: Int64, fields: RecordFields)? =
                    change.reflection.map { ($0.version, $0.fields) } ?? change.comment.map { ($0.version, $0.fields) }
                if let incoming, var local = try LocalRow.load(db, change.entity, change.id),
                    local.authorID == nil || local.authorID == me, local.serverVersion > incoming.version
                {
                    // Written here after the server's backup: keep it, and send it again from the server's version.
                    local.serverVersion = incoming.version
                    local.serverFields = incoming.fields
                    try local.save(db)
                    try requeue(db, local, settings: settings, operation: local.fields.deleted ? .delete : .update)
                    resent += 1
                } else {
                    try apply(db, change, run: run)
                }
            }
            return resent
        }
    }

    /// Ends a resync: the records the server lacks, the new cursor and epoch, and a log entry, in one transaction.
    func finishResync(run: SyncRun, cursor: Int64, epoch: String?, received: Int, resentSoFar: Int) throws
        -> ResyncReport
    {
        try pool.write { db in
            let run = try run.id(db)
            let settings = try Self.settings(db)
            let me = settings.member?.id.uuidString
            var report = ResyncReport(received: received, resent: resentSoFar, forgotten: 0)
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
                    if mine && !row.fields.deleted {
                        row.serverVersion = 0
                        row.serverFields = nil
                        try row.save(db)
                        try requeue(db, row, settings: settings, operation: .create)
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
            try db.execute(sql: "DELETE FROM resync_seen")
            try Self.set(db, .cursor, String(cursor))
            try Self.set(db, .epoch, epoch)
            try logEvent(
                db, run: run, direction: "pull", mutation: nil, outcome: "resync",
                detail:
                    "the server was restored from a backup: received \(report.received), sent again \(report.resent), "
                    + "removed \(report.forgotten) it no longer has")
            return report
        }
    }

    /// Replaces the record's pending changes with one that carries its whole text from the server's version (or
    /// as a new record): what this device shows is what the server gets.
    private func requeue(_ db: Database, _ row: LocalRow, settings: ClientSettings, operation: Mutation.Operation)
        throws
    {
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
                baseVersion: operation == .create ? nil : max(row.serverVersion, 1),
                changes: operation == .delete ? FieldChanges() : changes, hlc: try tick(db, settings: settings)))
    }
}
