import Foundation
import ReflectionsModel

/// What a compaction removed.
public struct CompactionReport: Codable, Sendable, Hashable {
    /// Deleted reflections and comments (tombstones) older than the retention, with everything kept for them.
    public var tombstones: Int
    /// Comments removed with a compacted reflection (nobody could see them since it was deleted).
    public var commentsOfTombstones: Int
    /// Record versions and conflict revisions removed (of compacted tombstones, and revisions resolved before
    /// the retention).
    public var versions: Int
    /// Idempotency-ledger entries older than the retention.
    public var ledger: Int
    /// Change-log rows older than the retention (the newest row always stays: it is the head).
    public var log: Int
    /// The compaction horizon afterwards: devices whose cursor is below it resync.
    public var horizon: Int64
    /// Write transactions used (each holds the write lock for one batch only).
    public var batches: Int
}

/// Compaction, written once for both engines, in batches of ``batchSize`` rows per write transaction so that
/// pushes wait at most one batch.
///
/// What it removes, and why that is safe:
/// - **Tombstones** (deleted reflections and comments) last changed before the cutoff, with their versions and
///   conflict revisions, and the comments of a removed reflection. A device whose cursor is below the newest
///   removed tombstone's sequence number may still hold such a record and would never hear of its deletion, so
///   that number becomes the **horizon**: its pulls and pushes get 410 `cursor_expired`, and it resyncs (the
///   record is gone from the snapshot, so the device drops it — unless it holds a pending change of its own
///   to it, which is sent again as a new record: an edit wins over a delete, as everywhere).
/// - **Resolved conflict revisions** resolved before the cutoff: nothing reads them.
/// - **Ledger entries** older than the retention: only a device that has not synced for that long could send
///   the same mutation again, so the horizon moves to the newest change older than the retention as well, and
///   such a device resyncs before it pushes (a resync drops a pending create the server already has).
/// - **Change-log rows** older than the retention, except the newest (the head that pulls report).
/// Live records and their versions are never removed: any device's pending edit still finds its base.
enum SQLStoreCompaction {
    static let batchSize = 200

    /// One batch of tombstones of `entity`; returns what it removed (0 tombstones: done).
    ///
    /// Tombstones are chosen by sequence number, at or below `oldest` (the newest change older than the
    /// retention), not by their own time: a tombstone given a new sequence number later (a visibility cascade)
    /// stays until that number is old too, so the horizon never jumps ahead of the retention. The horizon becomes
    /// `oldest` (a time, not the place of anyone's delete), or a removed comment's number if that is higher.
    ///
    /// Batches walk the sequence numbers upwards from `after` (the last one the previous batch removed), so the
    /// live records below it are read once per compaction, not once per batch: a sequence number only grows, so
    /// no tombstone can appear behind the walk.
    static func tombstoneBatch(_ tx: any SQLTransaction, entity: EntityKind, oldest: Int64, after: Int64) throws
        -> (tombstones: Int, comments: Int, versions: Int, last: Int64)
    {
        try tx.lockChangeFeed()
        let table = entity == .reflection ? "reflections" : "comments"
        let rows = try tx.fetchAll(
            "SELECT id, seq FROM \(table) WHERE seq > ? AND seq <= ? AND deleted = TRUE ORDER BY seq LIMIT ?", after,
            oldest, batchSize)
        guard let last = rows.last?.integer("seq") else { return (0, 0, 0, after) }
        let ids = rows.map { $0.text("id") }
        var horizon = oldest
        var versions = 0
        var comments = 0
        for chunk in SQLList.chunks(ids) {
            let list = SQLList.placeholders(chunk.count)
            var commentIDs: [String] = []
            if entity == .reflection {
                let children = try tx.fetchAll(
                    "SELECT id, seq FROM comments WHERE reflection_id IN (\(list))", chunk.map { SQLValue.text($0) })
                commentIDs = children.map { $0.text("id") }
                horizon = max(horizon, children.map { $0.integer("seq") }.max() ?? 0)
            }
            for (kind, recordIDs) in [("comment", commentIDs), (entity.rawValue, chunk)] where !recordIDs.isEmpty {
                for part in SQLList.chunks(recordIDs) {
                    let args = [SQLValue.text(kind)] + part.map { SQLValue.text($0) }
                    let marks = SQLList.placeholders(part.count)
                    versions += try count(
                        tx, "SELECT COUNT(*) AS n FROM record_versions WHERE entity = ? AND record_id IN (\(marks))",
                        args)
                    versions += try count(
                        tx, "SELECT COUNT(*) AS n FROM conflict_revisions WHERE entity = ? AND record_id IN (\(marks))",
                        args)
                    try tx.execute("DELETE FROM record_versions WHERE entity = ? AND record_id IN (\(marks))", args)
                    try tx.execute("DELETE FROM conflict_revisions WHERE entity = ? AND record_id IN (\(marks))", args)
                }
            }
            for part in SQLList.chunks(commentIDs) {
                try tx.execute(
                    "DELETE FROM comments WHERE id IN (\(SQLList.placeholders(part.count)))",
                    part.map { SQLValue.text($0) })
            }
            comments += commentIDs.count
            try tx.execute("DELETE FROM \(table) WHERE id IN (\(list))", chunk.map { SQLValue.text($0) })
            for removed in [chunk, commentIDs] where !removed.isEmpty {
                for part in SQLList.chunks(removed) {
                    try tx.execute(
                        """
                        INSERT INTO compacted_records (id) VALUES \(part.map { _ in "(?)" }.joined(separator: ","))
                        ON CONFLICT (id) DO NOTHING
                        """, part.map { SQLValue.text($0) })
                }
            }
        }
        try tx.execute("UPDATE server_epoch SET horizon = ? WHERE id = 1 AND horizon < ?", horizon, horizon)
        return (rows.count, comments, versions, last)
    }

    /// One batch of resolved revisions, ledger entries or log rows older than the cutoff; returns how many, and
    /// where the next batch starts.
    ///
    /// Each batch starts after the last key the previous one removed and walks the table's own key: rows that
    /// stay (newer than the cutoff) are read once per compaction, not once per batch, and every delete finds
    /// its rows by key (a compaction of a large server is linear, not quadratic). Rows written meanwhile are
    /// newer than the cutoff, so a walk that passes their place misses nothing.
    static func oldRowsBatch(_ tx: any SQLTransaction, _ kind: OldRows, cutoff: Int64, oldest: Int64, after: OldRowKey)
        throws -> (removed: Int, last: OldRowKey)
    {
        switch kind {
        case .resolvedRevisions:
            let ids = try tx.fetchAll(
                """
                SELECT id FROM conflict_revisions
                WHERE id > ? AND resolved_at IS NOT NULL AND resolved_at < ? ORDER BY id LIMIT ?
                """, after.first, cutoff, batchSize
            ).map { $0.text("id") }
            guard let last = ids.last else { return (0, after) }
            try tx.execute(
                "DELETE FROM conflict_revisions WHERE id IN (\(SQLList.placeholders(ids.count)))",
                ids.map { SQLValue.text($0) })
            return (ids.count, OldRowKey(first: last))
        case .ledger:
            let keys = try tx.fetchAll(
                """
                SELECT client_id, mutation_id FROM applied_mutations
                WHERE (client_id, mutation_id) > (?, ?) AND applied_at < ? ORDER BY client_id, mutation_id LIMIT ?
                """, after.first, after.second, cutoff, batchSize
            ).map { OldRowKey(first: $0.text("client_id"), second: $0.text("mutation_id")) }
            guard let last = keys.last else { return (0, after) }
            try tx.execute(
                "DELETE FROM applied_mutations WHERE "
                    + keys.map { _ in "(client_id = ? AND mutation_id = ?)" }.joined(separator: " OR "),
                keys.flatMap { [SQLValue.text($0.first), .text($0.second)] })
            return (keys.count, last)
        case .log:
            // The log's key is its sequence number, and its rows older than the cutoff lie at or below `oldest`.
            let seqs = try tx.fetchAll(
                """
                SELECT seq FROM change_log
                WHERE seq <= ? AND at < ? AND seq < (SELECT MAX(seq) FROM change_log) ORDER BY seq LIMIT ?
                """, oldest, cutoff, batchSize
            ).map { $0.integer("seq") }
            guard !seqs.isEmpty else { return (0, after) }
            try tx.execute(
                "DELETE FROM change_log WHERE seq IN (\(SQLList.placeholders(seqs.count)))",
                seqs.map { SQLValue.integer($0) })
            return (seqs.count, after)
        }
    }

    /// Where a batch of ``oldRowsBatch(_:_:cutoff:oldest:after:)`` starts: after this key (empty strings sort first).
    struct OldRowKey {
        var first = ""
        var second = ""
    }

    enum OldRows { case resolvedRevisions, ledger, log }

    static func count(_ tx: any SQLTransaction, _ sql: String, _ arguments: [SQLValue]) throws -> Int {
        Int(try tx.fetchAll(sql, arguments).first?.integer("n") ?? 0)
    }
}

extension ServerStore where Self: SQLEngine {
    public func compact(keepDays: Int, now: Int64) async throws -> CompactionReport {
        let cutoff = now - Int64(keepDays) * 86_400_000
        var report = CompactionReport(
            tombstones: 0, commentsOfTombstones: 0, versions: 0, ledger: 0, log: 0, horizon: 0, batches: 0)
        // The newest change older than the retention: what may be removed lies at or below it.
        let oldest = try await read { tx in
            try tx.fetchOne("SELECT MAX(seq) AS seq FROM change_log WHERE at < ?", cutoff)?.optionalInteger("seq") ?? 0
        }
        for entity in [EntityKind.comment, .reflection] {
            var after: Int64 = 0
            while true {
                let removed = try await write { [after] tx in
                    try SQLStoreCompaction.tombstoneBatch(tx, entity: entity, oldest: oldest, after: after)
                }
                after = removed.last
                report.batches += 1
                report.tombstones += removed.tombstones
                report.commentsOfTombstones += removed.comments
                report.versions += removed.versions
                if removed.tombstones < SQLStoreCompaction.batchSize { break }
            }
        }
        // Before any ledger entry goes, the horizon covers every device that may still re-send one (under the
        // change-feed lock, so no push is between its check and its ledger lookup).
        try await write { tx in
            guard
                try !tx.fetchAll("SELECT 1 AS one FROM applied_mutations WHERE applied_at < ? LIMIT 1", cutoff).isEmpty
            else { return }
            try tx.lockChangeFeed()
            try tx.execute("UPDATE server_epoch SET horizon = ? WHERE id = 1 AND horizon < ?", oldest, oldest)
        }
        for kind in [SQLStoreCompaction.OldRows.resolvedRevisions, .ledger, .log] {
            var after = SQLStoreCompaction.OldRowKey()
            while true {
                let (removed, last) = try await write { [after] tx in
                    try SQLStoreCompaction.oldRowsBatch(tx, kind, cutoff: cutoff, oldest: oldest, after: after)
                }
                after = last
                report.batches += 1
                switch kind {
                case .resolvedRevisions: report.versions += removed
                case .ledger: report.ledger += removed
                case .log: report.log += removed
                }
                if removed < SQLStoreCompaction.batchSize { break }
            }
        }
        report.horizon = try await horizon()
        return report
    }

    public func horizon() async throws -> Int64 {
        try await read { tx in
            try tx.fetchOne("SELECT horizon FROM server_epoch WHERE id = 1")?.integer("horizon") ?? 0
        }
    }
}
