import Crypto
import Foundation
import Hummingbird
import ReflectionsClient
import ReflectionsModel

/// Conflicts on the page: the list, both versions side by side with the words that differ marked, and the three
/// ways out (keep the current version, keep the other one, or save a merged text) — the store's own
/// ``ClientStore/resolve(_:id:choice:)``, the same code `reflect resolve` runs.
///
/// Decision: the columns are named "current" (what every device shows now) and "other" (the kept version that
/// lost), with the device each came from when the store knows it, rather than "mine" and "theirs": both sides are
/// the member's own writing, often both from other devices, and "mine" would then be a guess.
extension PageServer {
    func conflicts() throws -> Response {
        let listed = try home.store.conflicts().map { conflict -> [String: Any] in
            [
                "id": conflict.recordID.uuidString, "entity": conflict.entity == .comment ? "comment" : "reflection",
                "title": conflict.title.isEmpty ? "(no title)" : conflict.title, "count": conflict.revisions.count,
            ]
        }
        return try page("conflicts", ["title": "Conflicts", "conflicts": listed])
    }

    /// What the side-by-side view needs of one conflicted record of the member's, or nil.
    struct Conflict {
        var entity: EntityKind
        var id: UUID
        var current: RecordFields
        var revisions: [ConflictRevision]
        /// The reflection to go back to (the record itself, or a comment's reflection).
        var reflectionID: UUID
    }

    func conflict(_ id: String) -> Conflict? {
        guard let uuid = UUID(uuidString: id),
            let summary = try? home.store.conflicts().first(where: { $0.recordID == uuid })
        else { return nil }
        switch summary.entity {
        case .reflection:
            guard let local = try? home.store.reflection(id: uuid), local.isMine else { return nil }
            let r = local.reflection
            return Conflict(
                entity: .reflection, id: uuid,
                current: RecordFields(title: r.title, body: r.body, visibility: r.visibility, deleted: r.deleted),
                revisions: summary.revisions, reflectionID: uuid)
        case .comment:
            guard let local = try? home.store.comment(id: uuid), local.isMine else { return nil }
            let c = local.comment
            return Conflict(
                entity: .comment, id: uuid, current: RecordFields(body: c.body, deleted: c.deleted),
                revisions: summary.revisions, reflectionID: c.reflectionID)
        }
    }

    func conflictView(
        _ id: String, merged: String? = nil, problem: String? = nil, status: HTTPResponse.Status = .ok,
        editor: String? = nil, wanted: String? = nil
    ) throws -> Response {
        guard let conflict = conflict(id), let other = conflict.revisions.last else {
            return try notHere("There is no open conflict on this here: it may be resolved already.")
        }
        let thisDevice = try home.store.settings().clientID
        let device =
            other.clientID == thisDevice
            ? "this device" : other.deviceName.map { "“\($0)”" } ?? "another of your devices"
        // An edit-versus-delete revision records the delete that an edit undid, stamped by the device that edited
        // (as `reflect resolve` reads it): that device made the current version, and the delete's is not known.
        let (from, currentFrom) =
            other.kind == .editVersusDelete
            ? ("A delete made on one of your devices", "Edited on \(device), so it came back")
            : ("Written on \(device)", "What your devices show now")
        let otherDeleted = other.fields.deleted || other.kind == .editVersusDelete
        let otherBody = other.fields.body
        let currentBody = conflict.current.body
        let (currentMarked, otherMarked) = Self.marked(currentBody, otherDeleted ? currentBody : otherBody)
        let currentTitle = conflict.current.title ?? ""
        let otherTitle = other.fields.title ?? currentTitle
        var drafts: [String: Any] = Self.editorValues(continuing: editor)
        var kept: EditorDraft?
        if merged == nil { (kept, drafts) = try editorDrafts(.merge(conflict.id), wanted: wanted) }
        return try page(
            "conflict",
            [
                "title": "Resolve a conflict", "id": conflict.id.uuidString,
                "what": conflict.entity == .comment ? "comment" : "reflection",
                "reflectionID": conflict.reflectionID.uuidString,
                "hasTitle": conflict.entity == .reflection,
                "current": [
                    "title": currentTitle, "titleDiffers": currentTitle != otherTitle, "segments": currentMarked,
                    "deleted": conflict.current.deleted, "from": currentFrom,
                ],
                "other": [
                    "title": otherTitle, "titleDiffers": currentTitle != otherTitle, "segments": otherMarked,
                    "deleted": otherDeleted, "from": from, "when": Self.time(other.createdAt),
                ],
                "older": conflict.revisions.count > 1, "olderCount": conflict.revisions.count - 1,
                "form": ["merged": merged ?? kept?.body ?? currentBody],
                "slot": EditorDraft.Slot.merge(conflict.id).text, "revision": other.id.uuidString,
                "shown": Self.digest(conflict.current),
                "self": "/conflicts/\(conflict.id.uuidString)?draft=\(drafts["editor"] as? String ?? "")",
            ].merging(drafts) { _, draft in draft }, problem: problem, status: status)
    }

    func resolve(_ request: Request, id: String) async throws -> Response {
        let form = try await checkedForm(request)
        guard let conflict = conflict(id) else {
            return try keptElsewhere(
                UUID(uuidString: id).map(EditorDraft.Slot.merge), form, text: form["merged"] ?? "",
                what: "This conflict")
        }
        // The choice is about the versions the page showed: if a sync changed either since (a newer version kept,
        // the current text edited elsewhere), the member sees them again before anything is decided.
        guard form["revision"] == conflict.revisions.last?.id.uuidString, form["shown"] == Self.digest(conflict.current)
        else {
            return try conflictView(
                id, merged: form["merged"],
                problem: "These versions changed since the page showed them (another device synced). Here they are "
                    + "as they are now: choose again.", status: .conflict, editor: form["editor"])
        }
        let choice: ResolveChoice
        switch form["choice"] {
        case "current": choice = .keepCurrent
        case "other": choice = .takeRevision
        case "merged": choice = .merged(body: form["merged"] ?? "")
        default:
            return try conflictView(
                id, merged: form["merged"], problem: "Choose one of the three ways to end it.", status: .badRequest,
                editor: form["editor"])
        }
        do {
            try home.store.resolve(conflict.entity, id: conflict.id, choice: choice)
            saved(.merge(conflict.id), form, all: true)
        } catch let error as ClientError {
            // The merged text comes back in its field, with what to fix.
            return try conflictView(
                id, merged: form["merged"], problem: error.message, status: .unprocessableContent,
                editor: form["editor"])
        }
        return Response(
            status: .seeOther,
            headers: [.location: "\(security.base)/r/\(conflict.reflectionID.uuidString)?notice=resolved"])
    }

    /// A short fingerprint of a version as shown (title, text, deleted), to notice that it changed meanwhile.
    static func digest(_ fields: RecordFields) -> String {
        let shown = "\(fields.title ?? "")\u{0}\(fields.body)\u{0}\(fields.deleted)"
        return SHA256.hash(data: Data(shown.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// Both texts cut into words, each run that is in one text only marked (a word diff, ``Diff``).
    static func marked(_ a: String, _ b: String) -> (a: [[String: Any]], b: [[String: Any]]) {
        let wordsA = TextMerge.words(a)
        let wordsB = TextMerge.words(b)
        var left: [[String: Any]] = []
        var right: [[String: Any]] = []
        func add(_ side: inout [[String: Any]], _ words: ArraySlice<String>, marked: Bool) {
            if words.isEmpty { return }
            side.append(["text": words.joined(), "marked": marked])
        }
        var ia = 0
        var ib = 0
        for hunk in Diff.hunks(wordsA, wordsB) {
            add(&left, wordsA[ia..<hunk.aStart], marked: false)
            add(&left, wordsA[hunk.aStart..<hunk.aEnd], marked: true)
            add(&right, wordsB[ib..<hunk.bStart], marked: false)
            add(&right, wordsB[hunk.bStart..<hunk.bEnd], marked: true)
            ia = hunk.aEnd
            ib = hunk.bEnd
        }
        add(&left, wordsA[ia...], marked: false)
        add(&right, wordsB[ib...], marked: false)
        return (left, right)
    }
}
