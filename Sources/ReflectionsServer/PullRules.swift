import Foundation
import ReflectionsModel

/// What a pull may tell a member about a record: the rules of object-level authorization for reads.
///
/// - The author receives every change of their own records, tombstones included.
/// - Another member receives a reflection's content while it is `community` and not deleted. Once it is not,
///   they receive a tombstone (deleted) or a removal (made private), but only if the reflection was shared at or
///   before their cursor — that is, if they may hold it. Otherwise they receive nothing: not its id, not its
///   tombstone.
/// - A comment is visible to a member while its reflection is visible to them, it is not deleted, and it is not
///   hidden (a hidden comment stays visible to its own author). When it stops being visible, its author always
///   receives a removal (their devices hold it, having written it — it names only their own comment), others
///   only if they pulled past it.
enum PullRules {
    /// What a comment's visibility depends on.
    struct Parent {
        var authorID: UUID
        var shared: Bool
    }

    static func kind(forReflection record: StoredRecord, viewer: UUID, since: Int64) -> Change.Kind? {
        if record.authorID == viewer { return record.fields.deleted ? .tombstone : .upsert }
        if record.isShared { return .upsert }
        guard let shared = record.firstSharedSeq, shared <= since else { return nil }
        return record.fields.deleted ? .tombstone : .removal
    }

    static func kind(forComment record: StoredRecord, parent: Parent, viewer: UUID, since: Int64) -> Change.Kind? {
        let isAuthor = record.authorID == viewer
        let parentVisible = parent.shared || parent.authorID == viewer
        let visible = parentVisible && (record.fields.hidden != true || isAuthor)
        if visible { return record.fields.deleted ? .tombstone : .upsert }
        // Its author may hold it from any point on (they wrote it); others only once they pulled past it.
        guard isAuthor || (record.firstSharedSeq.map { $0 <= since } ?? false) else { return nil }
        return .removal
    }
}
