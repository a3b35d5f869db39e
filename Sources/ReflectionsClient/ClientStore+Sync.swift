import Foundation
import GRDB
import ReflectionsModel
import Synchronization

/// One run of the sync log. Its row is written in the same transaction as the first thing the run records (a
/// pushed change's fate, a pulled change, a new cursor), so that a sync that moved nothing makes no durable write
/// at all; a failed run is always recorded, with its cause.
final class SyncRun: Sendable {
    let startedAt: Int64
    private let stored = Mutex<Int64?>(nil)

    init(startedAt: Int64) {
        self.startedAt = startedAt
    }

    /// The row id, if the run has recorded anything yet.
    var recordedID: Int64? { stored.withLock { $0 } }

    /// The run's id, its row inserted in `db`'s transaction if it has none yet. If that transaction rolls back,
    /// the row goes with it and the id is forgotten, so that the next transaction makes a new row (never one
    /// that a concurrent run may have taken the id of meanwhile).
    func id(_ db: Database) throws -> Int64 {
        if let id = recordedID { return id }
        try db.execute(
            sql: "INSERT INTO sync_runs (started_at, status) VALUES (?, 'running')", arguments: [startedAt])
        let id = db.lastInsertedRowID
        stored.withLock { $0 = id }
        db.afterNextTransaction(onCommit: { _ in }, onRollback: { [self] _ in stored.withLock { $0 = nil } })
        return id
    }
}

/// Counts of one sync run.
public struct SyncCounts: Sendable, Codable, Hashable {
    public var pushed = 0
    public var pulled = 0
    public var merged = 0
    public var conflicts = 0
    public var rejected = 0
    /// What a resync did, when this run had to make one (the server was restored from a backup).
    public var resynced: ResyncReport?
    public init() {}
}

extension ClientStore {
    /// Starts a run of the sync log (nothing is written until the run records something).
    func startRun() -> SyncRun {
        SyncRun(startedAt: clock.now())
    }

    /// Ends a run: its row gets the outcome. A run that recorded nothing, moved nothing and did not fail is left
    /// out of the log (and costs no write); a whole sync (`upToDate`) of that kind only touches the marker file
    /// that `status` reads.
    func finishRun(_ run: SyncRun, status: String, counts: SyncCounts, error: String?, upToDate: Bool = true) throws {
        guard run.recordedID != nil || status == "failed" || counts != SyncCounts() else {
            guard upToDate else { return }
            if !FileManager.default.fileExists(atPath: quietSyncMarker) {
                _ = FileManager.default.createFile(
                    atPath: quietSyncMarker, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            let now = Date(timeIntervalSince1970: Double(clock.now()) / 1000)
            try? FileManager.default.setAttributes([.modificationDate: now], ofItemAtPath: quietSyncMarker)
            return
        }
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE sync_runs SET finished_at = ?, status = ?, pushed = ?, pulled = ?, merged = ?, conflicts = ?,
                        rejected = ?, error = ?
                    WHERE id = ?
                    """,
                arguments: [
                    clock.now(), status, counts.pushed, counts.pulled, counts.merged, counts.conflicts, counts.rejected,
                    error, try run.id(db),
                ])
        }
    }

    /// The next batch to push, oldest first, marked as sent in the same transaction (so it is never rewritten
    /// again, and is re-sent unchanged after any failure). `after` skips the outbox entries up to that sequence
    /// number: a batch still in flight, whose answer has not been recorded yet.
    func nextBatch(maxCount: Int, maxBytes: Int, after: Int64 = 0) throws -> OutboxBatch {
        try pool.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, mutation_id, entity, record_id, operation, mutation, sent FROM outbox
                    WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [after, maxCount])
            var entries: [PendingPush] = []
            var bytes = 200
            var seqs: [Int64] = []
            var newlySent: [Int64] = []
            for row in rows {
                let entry = try PendingPush(row)
                if !entries.isEmpty && bytes + entry.json.utf8.count + 1 > maxBytes { break }
                bytes += entry.json.utf8.count + 1
                entries.append(entry)
                let seq: Int64 = row[0]
                seqs.append(seq)
                if (row[6] as Int64) == 0 { newlySent.append(seq) }
            }
            if !seqs.isEmpty {
                try db.execute(
                    sql: "UPDATE outbox SET sent = 1 WHERE seq IN (\(seqs.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments(seqs))
            }
            return OutboxBatch(entries: entries, lastSequence: seqs.last ?? after, newlySent: newlySent)
        }
    }

    /// Records the server's answer to a push: acknowledged mutations leave the outbox, rejected ones stay with
    /// the server's reason (never silently dropped).
    func applyPushResults(
        run: SyncRun, entries: [PendingPush], results: [MutationResult], counts: inout SyncCounts
    ) throws {
        counts = try pool.write { [counts] db in
            var counts = counts
            let run = try run.id(db)
            let byID = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) })
            for result in results {
                guard let entry = byID[result.mutationID] else { continue }
                let outcome = result.effectiveOutcome
                let detail = result.outcome == .duplicate ? "already applied: \(outcome.rawValue)" : nil
                switch outcome {
                case .rejected:
                    counts.rejected += 1
                    try db.cachedStatement(
                        sql:
                            "UPDATE outbox SET state = 'rejected', reject_code = ?, reject_reason = ? WHERE mutation_id = ?"
                    ).execute(arguments: [result.code, result.reason, entry.id.uuidString])
                    try logEvent(
                        db, run: run, direction: "push", entry: entry, outcome: "rejected",
                        detail: "\(result.code ?? "rejected"): \(result.reason ?? "")")
                default:
                    counts.pushed += 1
                    if outcome == .merged { counts.merged += 1 }
                    if outcome == .conflict { counts.conflicts += 1 }
                    try db.cachedStatement(sql: "DELETE FROM outbox WHERE mutation_id = ?").execute(
                        arguments: [entry.id.uuidString])
                    // The server answered with a version this device already holds (a resync pulled it before this
                    // change was re-sent): the server's text of it is final, and no later pull will bring it again.
                    // The version is looked at before the whole row is read: loading every pushed record's row
                    // was half of recording a push's answer, and the case is rare.
                    if outcome == .merged || outcome == .applied, let version = result.version,
                        let held = try Int64.fetchOne(
                            db.cachedStatement(
                                sql: "SELECT server_version FROM \(LocalRow.table(entry.target.entity)) WHERE id = ?"),
                            arguments: [entry.target.id.uuidString]),
                        version <= held,
                        var local = try LocalRow.load(db, entry.target.entity, entry.target.id),
                        version <= local.serverVersion, let server = local.serverFields, local.fields != server,
                        try Self.pendingCount(db, entry.target.id) == 0
                    {
                        // Whatever this device showed is written to the log before the server's text replaces it.
                        try logEvent(
                            db, run: run, direction: "push", entry: entry, outcome: "settled",
                            detail: "the server's text replaces this device's: "
                                + [local.fields.title, local.fields.body].compactMap { $0 }.joined(separator: "\n"))
                        local.fields = server
                        try local.save(db)
                    }
                    try logEvent(
                        db, run: run, direction: "push", entry: entry, outcome: outcome.rawValue,
                        detail: detail
                            ?? "\(entry.operation.rawValue) → version \(result.version.map(String.init) ?? "-")")
                }
            }
            return counts
        }
    }

    /// Applies one page of a pull and moves the cursor, in one transaction. Changes whose sequence is in `own`
    /// (this device's changes of this run, coming back) are applied but not counted. A page that brings nothing
    /// and leaves the cursor at `since` writes nothing.
    ///
    /// The first page that names the server's epoch, on a device that knows none yet, stores it.
    func applyPull(
        run: SyncRun, page: PullResponse, since: Int64, own: Set<Int64> = [], knownEpoch: String? = nil,
        counts: inout SyncCounts
    ) throws {
        let learnsEpoch = knownEpoch == nil && page.epoch != nil
        if page.changes.isEmpty && page.nextCursor == since && !learnsEpoch { return }
        counts = try pool.write { [counts] db in
            var counts = counts
            let run = try run.id(db)
            if learnsEpoch, try Self.settings(db).epoch == nil { try Self.set(db, .epoch, page.epoch) }
            // The member's own shared records come back after they change their name on another device: keep it.
            if var member = try Self.settings(db).member,
                let name = page.changes.lazy.compactMap({ change -> String? in
                    let author = change.reflection?.authorID ?? change.comment?.authorID
                    return author == member.id ? (change.reflection?.authorName ?? change.comment?.authorName) : nil
                }).last, name != member.displayName
            {
                member.displayName = name
                try Self.set(db, .member, try Self.json(member))
            }
            for change in page.changes {
                try apply(db, change, run: run, own: own.contains(change.sequence))
                if !own.contains(change.sequence) { counts.pulled += 1 }
            }
            try Self.set(db, .cursor, String(page.nextCursor))
            return counts
        }
    }

    /// Applies one pulled change, rebasing pending local edits of the record on top of it.
    func apply(_ db: Database, _ change: Change, run: Int64, own: Bool = false) throws {
        let pending =
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM outbox WHERE record_id = ? AND state = 'pending'"),
                arguments: [change.id.uuidString]) ?? 0
        let local = try LocalRow.load(db, change.entity, change.id)
        // A tombstone of another member's record names only its entity and id (``Access``): like a removal, it
        // means "forget it".
        let carriesRecord =
            switch change.entity {
            case .reflection: change.reflection != nil
            case .comment: change.comment != nil
            }
        switch change.kind {
        case .removal,
            .tombstone where !carriesRecord:
            if pending == 0 { try LocalRow.delete(db, change.entity, change.id) }
            if change.entity == .reflection {
                try db.execute(
                    sql: """
                        DELETE FROM comments WHERE reflection_id = ?
                            AND id NOT IN (SELECT record_id FROM outbox WHERE state = 'pending')
                        """, arguments: [change.id.uuidString])
            }
            try db.execute(sql: "DELETE FROM revisions WHERE record_id = ?", arguments: [change.id.uuidString])
            try logEvent(
                db, run: run, direction: "pull", mutation: nil, entity: change.entity, recordID: change.id,
                outcome: change.kind.rawValue,
                detail: change.kind == .tombstone ? "deleted by its author" : "no longer visible to you")
        case .tombstone, .upsert:
            var incoming: LocalRow
            switch change.entity {
            case .reflection:
                guard let r = change.reflection else { return }
                incoming = LocalRow(
                    entity: .reflection, id: r.id, authorID: r.authorID, reflectionID: nil, fields: r.fields,
                    serverVersion: r.version, serverFields: r.fields, createdAt: r.writtenAt ?? r.createdAt,
                    updatedAt: r.updatedAt, conflicted: r.conflicted, authorName: r.authorName)
            case .comment:
                guard let c = change.comment else { return }
                incoming = LocalRow(
                    entity: .comment, id: c.id, authorID: c.authorID, reflectionID: c.reflectionID, fields: c.fields,
                    serverVersion: c.version, serverFields: c.fields, createdAt: c.writtenAt ?? c.createdAt,
                    updatedAt: c.updatedAt, conflicted: c.conflicted, authorName: c.authorName)
            }
            var detail =
                own
                ? "your change, back from the server: version \(incoming.serverVersion)"
                : "version \(incoming.serverVersion)"
            if pending > 0, let local {
                // Rebase the pending local edit on the new server version with the shared merge rules; where they
                // conflict, the local text stays on screen and the server decides when it is pushed.
                let base = local.serverFields ?? incoming.fields
                let merged = RecordMerge.merge(
                    entity: change.entity, base: base, current: .init(incoming.fields, stamp: .zero),
                    incoming: .init(local.fields, stamp: .zero))
                incoming.fields = merged.outcome == .conflict ? local.fields : merged.fields
                detail += ", rebased \(pending) pending change(s)"
            }
            try incoming.save(db)
            if let received = change.revisions {
                // Only revisions of this very record (same entity and id) are kept, whatever a server sends.
                let revisions = received.filter { $0.entity == change.entity && $0.recordID == change.id }
                try db.cachedStatement(sql: "DELETE FROM revisions WHERE record_id = ?").execute(
                    arguments: [change.id.uuidString])
                for revision in revisions {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO revisions (id, entity, record_id, revision) VALUES (?, ?, ?, ?)",
                        arguments: [
                            revision.id.uuidString, revision.entity.rawValue, revision.recordID.uuidString,
                            try Self.json(revision),
                        ])
                }
                if !revisions.isEmpty { detail += ", \(revisions.count) open conflict(s)" }
            }
            try logEvent(
                db, run: run, direction: "pull", mutation: nil, entity: change.entity, recordID: change.id,
                outcome: change.kind.rawValue, detail: detail)
        }
    }

    /// Marks rejected mutations as pending again, to retry them in the next sync.
    public func retryRejected() throws -> Int {
        try pool.write { db in
            try db.execute(
                sql:
                    "UPDATE outbox SET state = 'pending', reject_code = NULL, reject_reason = NULL WHERE state = 'rejected'"
            )
            return db.changesCount
        }
    }
}

/// A batch of outbox entries on its way to the server.
struct OutboxBatch: Sendable {
    var entries: [PendingPush]
    /// The outbox sequence number of the batch's last entry (where the next batch starts).
    var lastSequence: Int64
    /// The entries that no earlier sync had sent (``ClientStore/markUnsent(_:)`` undoes their mark when the server
    /// refused the whole batch, so that they count as never seen by the server).
    var newlySent: [Int64] = []
}

extension ClientStore {
    /// Marks entries as never sent again: for a batch the server refused whole before applying anything (a
    /// restore or an expired cursor), or one that was read but never sent. An entry sent by an earlier sync
    /// keeps its mark (that send may have been applied).
    func markUnsent(_ sequences: [Int64]) throws {
        guard !sequences.isEmpty else { return }
        try pool.write { db in
            try db.execute(
                sql:
                    "UPDATE outbox SET sent = 0 WHERE state = 'pending' AND seq IN (\(sequences.map { _ in "?" }.joined(separator: ",")))",
                arguments: StatementArguments(sequences))
        }
    }
}

extension ClientStore {
    /// The rejected changes whose record id or mutation id starts with `prefix` (at least 4 characters), or all
    /// of them for nil: what `discard` would drop.
    public func rejectedChanges(matching prefix: String?) throws -> [OutboxEntry] {
        let all = try pool.read { db in try Self.outbox(db, state: "rejected") }
        guard let prefix = prefix?.lowercased() else { return all }
        guard prefix.count >= 4 else {
            throw ClientError(.invalidInput, "Give at least 4 characters of the id.", next: .listRejected)
        }
        let matches = all.filter {
            $0.recordID.uuidString.lowercased().hasPrefix(prefix)
                || $0.mutationID.uuidString.lowercased().hasPrefix(prefix)
        }
        if Set(matches.map(\.recordID)).count > 1 {
            throw ClientError(
                .ambiguousID, "'\(prefix)' matches rejected changes of several records: give more of the id.")
        }
        guard !matches.isEmpty else {
            throw ClientError(.notFound, "No rejected change matches '\(prefix)'.", next: .listRejected)
        }
        return matches
    }

    /// Drops rejected changes on purpose (`entries`, as ``rejectedChanges(matching:)`` listed them), in one
    /// transaction. Each dropped change's text is written to the sync log, so it can still be read there. A record
    /// left with no change of its own goes back to the server's version of it, or, if it was never on the server,
    /// leaves this device.
    @discardableResult
    public func discardRejected(_ entries: [OutboxEntry]) throws -> Int {
        try pool.write { db in
            var dropped = 0
            for entry in entries {
                guard
                    let row = try Row.fetchOne(
                        db, sql: "SELECT mutation FROM outbox WHERE mutation_id = ? AND state = 'rejected'",
                        arguments: [entry.mutationID.uuidString])
                else { continue }
                let mutation = try? JSONDecoder().decode(Mutation.self, from: Data((row["mutation"] as String).utf8))
                try db.execute(
                    sql: "DELETE FROM outbox WHERE mutation_id = ?", arguments: [entry.mutationID.uuidString])
                dropped += 1
                // Everything the change carried, so that the log keeps all of it: title, text, visibility.
                let changes = mutation?.changes
                let carried = [
                    changes?.title.map { "title: \($0)" }, changes?.body.map { "text: \($0)" },
                    changes?.visibility.map { "visibility: \($0.rawValue)" },
                ].compactMap { $0 }.joined(separator: "; ")
                try logEvent(
                    db, run: nil, direction: "local", mutation: mutation, entity: entry.entity,
                    recordID: entry.recordID, outcome: "discarded",
                    detail: "dropped on purpose after the server refused it (\(entry.rejectCode ?? "rejected")); "
                        + (carried.isEmpty ? "it changed no text" : carried))
                let remaining =
                    try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM outbox WHERE record_id = ?",
                        arguments: [entry.recordID.uuidString])
                    ?? 0
                if remaining == 0, var local = try LocalRow.load(db, entry.entity, entry.recordID) {
                    if let server = local.serverFields, local.serverVersion > 0 {
                        local.fields = server
                        try local.save(db)
                    } else {
                        try LocalRow.delete(db, entry.entity, entry.recordID)
                    }
                }
            }
            return dropped
        }
    }
}

/// One outbox entry as a push sends it: the mutation's stored JSON (sent as it is, see ``EncodedPush``) and, from
/// the outbox's own columns, what recording the server's answer needs — so that nothing is decoded on the way.
struct PendingPush: Sendable {
    var id: UUID
    var target: Mutation.Target
    var operation: Mutation.Operation
    var json: String

    /// From a row of `SELECT seq, mutation_id, entity, record_id, operation, mutation …` (read by position: GRDB's
    /// lookup by name lower-cases the name each time, a third of reading a batch in a profile).
    init(_ row: Row) throws {
        guard let id = UUIDText.parse(row[1] as String), let recordID = UUIDText.parse(row[3] as String),
            let entity = EntityKind(rawValue: row[2]), let operation = Mutation.Operation(rawValue: row[4])
        else {
            throw ClientError(
                .storage, "An entry of this device's outbox cannot be read (sequence \(row[0] as Int64)).")
        }
        self.id = id
        target = Mutation.Target(entity: entity, id: recordID)
        self.operation = operation
        json = row[5]
    }
}
