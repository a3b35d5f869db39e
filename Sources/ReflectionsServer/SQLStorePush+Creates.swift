import Foundation
import ReflectionsModel

/// New records in bulk: a run of consecutive creates that pass every check is written with one statement per
/// table (change log, reflections, comments, versions, ledger) instead of one per record per table.
///
/// Why: a push of 400 new records spent about 95 µs per record in its write transaction, almost all of it
/// statement overhead (six statements and a savepoint per record); the profile showed no single hot function.
/// The rules are the same ones ``SQLStorePush/create(_:_:member:now:)`` applies (validation, the id space, the
/// comment's reflection checked through ``Access``); a create that fails any check ends the run and goes the
/// one-at-a-time way, which gives it its rejection. A run is written inside one savepoint: if the bulk write
/// fails, nothing of it stays and each of its creates is applied alone, so a failure is still one mutation's.
extension SQLStorePush {
    /// A create that passed every check, with what its rows need.
    struct PreparedCreate {
        var mutation: Mutation
        var fields: RecordFields
        var reflectionID: UUID?
    }

    /// Row counts per statement: a remainder is split into powers of two, so that each table has at most eight
    /// statement texts (each cached once), whatever the batch sizes.
    static let bulkChunk = 128

    /// A block of consecutive creates and the reflections its comments answer, read with one query: only creates
    /// follow in the block, so none of those reflections changes before the block ends.
    struct CreateBlock {
        var end = 0
        var parents: [UUID: StoredRecord] = [:]

        init() {}

        init(_ tx: any SQLTransaction, _ mutations: [Mutation], from start: Int) throws {
            end = start
            while end < mutations.count && mutations[end].operation == .create { end += 1 }
            guard end - start >= 2 else { return }
            let ids = Set(
                mutations[start..<end].compactMap { $0.target.entity == .comment ? $0.changes.reflectionID : nil })
            for chunk in SQLList.chunks(Array(ids)) {
                let rows = try tx.fetchAll(
                    "SELECT * FROM reflections WHERE id IN (\(SQLList.placeholders(chunk.count)))",
                    chunk.map(\.sqlValue))
                for row in rows {
                    let record = StoredRecord(reflectionRow: row)
                    parents[record.id] = record
                }
            }
        }
    }

    /// The creates from `start` (inside `block`) that may be written in bulk: every one passes the checks. Empty
    /// when fewer than two do: the mutation at `start` then goes alone (and gets its rejection, if any).
    static func bulkRun(
        _ mutations: [Mutation], from start: Int, block: CreateBlock, clientID: UUID, member: Member,
        batch: BatchLookups
    ) -> [PreparedCreate] {
        var run: [PreparedCreate] = []
        var named: Set<UUID> = []
        for m in mutations[start..<block.end] {
            guard batch.ledger[m.id] == nil, m.clientID == clientID, !batch.idsInUse.contains(m.target.id),
                named.insert(m.target.id).inserted,
                let prepared = try? prepare(m, member: member, parents: block.parents)
            else { break }
            run.append(prepared)
        }
        return run.count >= 2 ? run : []
    }

    /// The checks of ``create(_:_:member:now:)`` without its writes; throws the same rejections.
    static func prepare(_ m: Mutation, member: Member, parents: [UUID: StoredRecord]) throws -> PreparedCreate {
        let changes = try validated(m.changes, entity: m.target.entity, creating: true)
        switch m.target.entity {
        case .reflection:
            guard let title = changes.title, let body = changes.body, changes.reflectionID == nil else {
                throw Rejection("missing_field", "A new reflection needs a title and a body.")
            }
            return PreparedCreate(
                mutation: m,
                fields: RecordFields(
                    title: title, body: body, visibility: changes.visibility ?? .private, promptID: changes.promptID))
        case .comment:
            guard let body = changes.body, let parentID = changes.reflectionID, changes.title == nil,
                changes.visibility == nil, changes.promptID == nil, let parent = parents[parentID],
                Access.refusalToComment(on: parent.subject, by: Access.Viewer(member)) == nil
            else { throw Rejection.notFound }
            return PreparedCreate(mutation: m, fields: RecordFields(body: body, hidden: false), reflectionID: parentID)
        }
    }

    /// Writes a run of prepared creates and their ledger entries; returns their results, in order.
    static func writeCreates(
        _ tx: any SQLTransaction, _ run: [PreparedCreate], clientID: UUID, member: Member, now: Int64
    ) throws -> [MutationResult] {
        var sequence: [UUID: Int64] = [:]
        try inChunks(run) { part in
            let rows = try tx.fetchAll(
                """
                INSERT INTO change_log (entity, record_id, member_id, owner_id, client_id, mutation_id, operation,
                    outcome, at)
                VALUES \(values(part.count, "(?, ?, ?, ?, ?, ?, 'create', 'applied', ?)"))
                RETURNING seq, record_id
                """,
                part.flatMap { p -> [SQLValue] in
                    [
                        .text(p.mutation.target.entity.rawValue), p.mutation.target.id.sqlValue, member.id.sqlValue,
                        member.id.sqlValue, clientID.sqlValue, p.mutation.id.sqlValue, .integer(now),
                    ]
                })
            for row in rows { sequence[row.uuid("record_id")] = row.integer("seq") }
        }
        let reflections = run.filter { $0.mutation.target.entity == .reflection }
        let comments = run.filter { $0.mutation.target.entity == .comment }
        try inChunks(reflections) { part in
            try tx.execute(
                """
                INSERT INTO reflections (id, author_id, prompt_id, title, body, visibility, created_at, updated_at,
                    deleted, version, hlc_physical, hlc_counter, hlc_node, seq, first_shared_seq, written_at)
                VALUES \(values(part.count, "(?, ?, ?, ?, ?, ?, ?, ?, FALSE, 1, ?, ?, ?, ?, ?, ?)"))
                """,
                part.flatMap { p -> [SQLValue] in
                    let m = p.mutation
                    let seq = sequence[m.target.id] ?? 0
                    return [
                        m.target.id.sqlValue, member.id.sqlValue, p.fields.promptID.sqlValue,
                        p.fields.title.sqlValue, .text(p.fields.body), p.fields.visibility?.rawValue.sqlValue ?? .null,
                        .integer(now), .integer(now), .integer(m.hlc.physical), .integer(Int64(m.hlc.counter)),
                        .text(m.hlc.node), .integer(seq), p.fields.visibility == .community ? .integer(seq) : .null,
                        .integer(writtenAt(m, now: now)),
                    ]
                })
        }
        try inChunks(comments) { part in
            try tx.execute(
                """
                INSERT INTO comments (id, reflection_id, author_id, body, created_at, updated_at, deleted, hidden,
                    version, hlc_physical, hlc_counter, hlc_node, seq, first_shared_seq, written_at)
                VALUES \(values(part.count, "(?, ?, ?, ?, ?, ?, FALSE, FALSE, 1, ?, ?, ?, ?, ?, ?)"))
                """,
                part.flatMap { p -> [SQLValue] in
                    let m = p.mutation
                    let seq = sequence[m.target.id] ?? 0
                    return [
                        m.target.id.sqlValue, p.reflectionID.sqlValue, member.id.sqlValue, .text(p.fields.body),
                        .integer(now), .integer(now), .integer(m.hlc.physical), .integer(Int64(m.hlc.counter)),
                        .text(m.hlc.node), .integer(seq), .integer(seq), .integer(writtenAt(m, now: now)),
                    ]
                })
        }
        try inChunks(run) { part in
            try tx.execute(
                """
                INSERT INTO record_versions (entity, record_id, version, fields, producer_client_id, fast_forward)
                VALUES \(values(part.count, "(?, ?, 1, ?, ?, TRUE)"))
                """,
                part.flatMap { p -> [SQLValue] in
                    [
                        .text(p.mutation.target.entity.rawValue), p.mutation.target.id.sqlValue,
                        .text(p.fields.jsonText), clientID.sqlValue,
                    ]
                })
        }
        let results = run.map { p in
            MutationResult(
                mutationID: p.mutation.id, outcome: .applied, version: 1, sequence: sequence[p.mutation.target.id])
        }
        try inChunks(Array(zip(run, results))) { part in
            try tx.execute(
                """
                INSERT INTO applied_mutations (client_id, mutation_id, member_id, result, applied_at)
                VALUES \(values(part.count, "(?, ?, ?, ?, ?)"))
                """,
                part.flatMap { p, result -> [SQLValue] in
                    [
                        clientID.sqlValue, p.mutation.id.sqlValue, member.id.sqlValue, .text(result.jsonText),
                        .integer(now),
                    ]
                })
        }
        guard results.allSatisfy({ $0.sequence != nil }) else {
            throw Rejection("server_error", "A bulk create found no sequence number for one of its records.")
        }
        return results
    }

    /// The writing time of a create: the device's clock at the create, never later than now (as in
    /// ``create(_:_:member:now:)``).
    static func writtenAt(_ m: Mutation, now: Int64) -> Int64 { max(0, min(m.hlc.physical, now)) }

    /// `count` copies of a row's placeholders, for a multi-row `VALUES`.
    static func values(_ count: Int, _ row: String) -> String {
        Array(repeating: row, count: count).joined(separator: ", ")
    }

    /// Calls `body` with consecutive parts of `items` of 128, 64, 32, … rows (see ``bulkChunk``).
    static func inChunks<T>(_ items: [T], _ body: ([T]) throws -> Void) throws {
        var start = 0
        var size = bulkChunk
        while start < items.count {
            while size > items.count - start { size /= 2 }
            try body(Array(items[start..<start + size]))
            start += size
        }
    }
}
