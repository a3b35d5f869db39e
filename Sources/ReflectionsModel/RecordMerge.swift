/// The merge rules for a record: what the server (and a client rebasing its pending edits) does when an edit
/// arrives that started from an older version than the current one.
///
/// Given the `base` (the version the incoming edit started from), the `current` version and the `incoming` one:
/// - a field changed on one side only takes that side's value;
/// - title and body changed on both sides: ``TextMerge`` (by line, then by word); edits that neither overlap nor
///   touch merge cleanly;
/// - overlapping text edits: the current version stays current and the incoming version is kept whole as a
///   conflict revision (``Result/keptRevision``), so nothing is dropped; fields that merge cleanly
///   (visibility, prompt) still merge;
/// - visibility changed on both sides to different values: `private` wins (nothing is exposed by accident);
/// - prompt changed on both sides: the later HLC stamp wins;
/// - `hidden` (a moderator's flag on a comment) changed on both sides: hidden wins;
/// - an edit concurrent with a delete: the edit survives, the record is flagged as conflicted and the delete is
///   kept as the revision (losing writing is worse than undoing a delete);
/// - a merged text that would break a size limit is a conflict, not a merge.
///
/// ## Laws (tested with seeded random cases)
/// - **Deterministic**: the same inputs give the same result.
/// - **Order-independent**: when both `merge(base, x, y)` and `merge(base, y, x)` are clean, their fields are
///   equal; so the order in which two devices' edits arrive does not matter.
/// - **Nothing lost**: every character that either side added is in the result or in the kept revision.
/// - **Fast-forward**: if `current` equals `base`, the result is `incoming` (`applied`).
///
/// Merging never throws: a conflict is a result, not an error.
public enum RecordMerge {
    /// One side of a merge: the record's fields and the HLC stamp of the edit that made them.
    public struct Side: Hashable, Sendable {
        public var fields: RecordFields
        public var stamp: HLCTimestamp
        public init(_ fields: RecordFields, stamp: HLCTimestamp) {
            self.fields = fields
            self.stamp = stamp
        }
    }

    /// What the merge decided.
    public struct Result: Hashable, Sendable {
        /// The record's new current fields.
        public var fields: RecordFields
        /// `applied` (no concurrent change), `merged` (clean) or `conflict`.
        public var outcome: MutationOutcome
        /// For a conflict: why.
        public var conflictKind: ConflictRevision.Kind?
        /// For a conflict: the side that did not become current, whole.
        public var keptRevision: RecordFields?
    }

    /// Merges `incoming` into `current`, both descended from `base`.
    public static func merge(entity: EntityKind, base: RecordFields, current: Side, incoming: Side) -> Result {
        let cur = current.fields
        let inc = incoming.fields
        if cur == base { return Result(fields: inc, outcome: .applied) }
        if inc == base || inc == cur { return Result(fields: cur, outcome: .merged) }

        // An incoming delete.
        if inc.deleted && !base.deleted {
            if cur.deleted { return Result(fields: cur, outcome: .merged) }
            if cur.sameContent(as: base) {
                var deleted = cur
                deleted.deleted = true
                return Result(fields: deleted, outcome: .merged)
            }
            return Result(fields: cur, outcome: .conflict, conflictKind: .deleteVersusEdit, keptRevision: inc)
        }
        // An incoming edit of a record deleted meanwhile.
        if cur.deleted && !base.deleted && !inc.deleted {
            if inc.sameContent(as: base) { return Result(fields: cur, outcome: .merged) }
            var revived = inc
            revived.visibility = mergeVisibility(base.visibility, cur.visibility, inc.visibility)
            revived.hidden = pick(base.hidden, cur.hidden, inc.hidden) { ($0 ?? false) || ($1 ?? false) }
            return Result(fields: revived, outcome: .conflict, conflictKind: .editVersusDelete, keptRevision: cur)
        }

        var merged = cur
        merged.visibility = mergeVisibility(base.visibility, cur.visibility, inc.visibility)
        merged.promptID = pick(base.promptID, cur.promptID, inc.promptID) { c, i in
            incoming.stamp > current.stamp ? i : c
        }
        merged.hidden = pick(base.hidden, cur.hidden, inc.hidden) { ($0 ?? false) || ($1 ?? false) }
        merged.deleted = pick(base.deleted, cur.deleted, inc.deleted) { $0 || $1 }

        var textConflict = false
        if let title = mergeText(base.title, cur.title, inc.title) {
            merged.title = title
        } else {
            textConflict = true
        }
        if let body = mergeText(base.body, cur.body, inc.body) {
            merged.body = body ?? cur.body
        } else {
            textConflict = true
        }
        if !textConflict && !withinLimits(merged, entity: entity) { textConflict = true }
        if textConflict {
            merged.title = cur.title
            merged.body = cur.body
            return Result(fields: merged, outcome: .conflict, conflictKind: .text, keptRevision: inc)
        }
        return Result(fields: merged, outcome: .merged)
    }

    /// Whether merged fields still respect the size limits of ``Limits``.
    public static func withinLimits(_ fields: RecordFields, entity: EntityKind) -> Bool {
        if let title = fields.title,
            title.utf8.count > Limits.titleMaxBytes || title.count > Limits.titleMaxCharacters
                || title.contains("\n")
        {
            return false
        }
        let maxBody = entity == .reflection ? Limits.reflectionBodyMaxBytes : Limits.commentBodyMaxBytes
        return fields.body.utf8.count <= maxBody
    }

    private static func mergeVisibility(_ base: Visibility?, _ cur: Visibility?, _ inc: Visibility?) -> Visibility? {
        pick(base, cur, inc) { c, i in
            guard let c, let i else { return c ?? i }
            return Visibility.merged(c, i)
        }
    }

    /// One side's change wins; if both changed to different values, `both` decides.
    private static func pick<T: Equatable>(_ base: T, _ cur: T, _ inc: T, both: (T, T) -> T) -> T {
        if cur == inc { return cur }
        if cur == base { return inc }
        if inc == base { return cur }
        return both(cur, inc)
    }

    /// The three-way merge of an optional text field; `nil` for a conflict.
    private static func mergeText(_ base: String?, _ cur: String?, _ inc: String?) -> String?? {
        guard let base, let cur, let inc else { return .some(cur ?? inc) }
        switch TextMerge.merge(base: base, ours: cur, theirs: inc) {
        case .clean(let text): return .some(text)
        case .conflict: return nil
        }
    }
}
