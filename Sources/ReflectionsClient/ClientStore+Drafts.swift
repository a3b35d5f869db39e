import Foundation
import GRDB
import ReflectionsModel

/// Text typed in an editor and not yet saved: what a front end keeps every few seconds so that a reload, a
/// closed window or a crash loses none of it. Never synced, never validated (it is not writing yet: a text over
/// a limit is kept whole, so that the member can shorten it).
public struct EditorDraft: Sendable, Codable, Hashable {
    /// Which editor: ``Slot``'s text form.
    public var slot: String
    /// Which showing of that editor (a random name a front end gives each one): two tabs in one slot keep two
    /// drafts. 1–64 letters, digits, `-` or `_`.
    public var editor: String
    public var title: String?
    public var body: String
    public var visibility: Visibility?
    public var promptID: Int?
    /// When it was kept (milliseconds since 1970).
    public var savedAt: Int64

    public init(
        slot: String, editor: String, title: String? = nil, body: String, visibility: Visibility? = nil,
        promptID: Int? = nil, savedAt: Int64 = 0
    ) {
        self.slot = slot
        self.editor = editor
        self.title = title
        self.body = body
        self.visibility = visibility
        self.promptID = promptID
        self.savedAt = savedAt
    }

    /// The editors a draft can belong to: one per record and kind, so a draft only ever returns to its own form.
    public enum Slot: Hashable, Sendable {
        /// A new reflection.
        case write
        /// New text for this reflection.
        case edit(UUID)
        /// A new comment on this reflection.
        case comment(UUID)
        /// New text for this comment.
        case commentEdit(UUID)
        /// Merged text for this conflicted record.
        case merge(UUID)

        public var text: String {
            switch self {
            case .write: "write"
            case .edit(let id): "edit:\(id.uuidString)"
            case .comment(let id): "comment:\(id.uuidString)"
            case .commentEdit(let id): "comment-edit:\(id.uuidString)"
            case .merge(let id): "merge:\(id.uuidString)"
            }
        }

        /// The slot a text names, or nil when it names none (only these forms are ever stored).
        public init?(_ text: String) {
            if text == "write" {
                self = .write
                return
            }
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let id = UUID(uuidString: parts[1]), id.uuidString == parts[1] else { return nil }
            switch parts[0] {
            case "edit": self = .edit(id)
            case "comment": self = .comment(id)
            case "comment-edit": self = .commentEdit(id)
            case "merge": self = .merge(id)
            default: return nil
            }
        }
    }
}

extension ClientStore {
    /// The most text a draft keeps (characters); a front end reads less than this in one request anyway.
    public static let maxDraftCharacters = 1024 * 1024

    /// Keeps `draft` (replacing the slot's previous one), stamped now.
    public func saveDraft(_ draft: EditorDraft) throws {
        guard EditorDraft.Slot(draft.slot) != nil else {
            throw ClientError(.invalidInput, "'\(draft.slot.prefix(40))' is not an editor's draft.")
        }
        guard draft.body.count + (draft.title?.count ?? 0) <= Self.maxDraftCharacters else {
            throw ClientError(.invalidInput, "A draft keeps at most \(Self.maxDraftCharacters) characters.")
        }
        guard Self.isEditorName(draft.editor) else {
            throw ClientError(.invalidInput, "An editor's name is 1 to 64 letters, digits, '-' or '_'.")
        }
        if let prompt = draft.promptID, !Prompt.defaults.contains(where: { $0.id == prompt }) {
            throw ClientError(.invalidInput, "There is no prompt \(prompt).")
        }
        let now = clock.now()
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO drafts (slot, editor, title, body, visibility, prompt_id, saved_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (slot, editor) DO UPDATE SET title = excluded.title, body = excluded.body,
                      visibility = excluded.visibility, prompt_id = excluded.prompt_id, saved_at = excluded.saved_at
                    """,
                arguments: [
                    draft.slot, draft.editor, draft.title, draft.body, draft.visibility?.rawValue, draft.promptID, now,
                ])
        }
    }

    /// The newest draft kept for an editor, if any.
    public func draft(_ slot: EditorDraft.Slot) throws -> EditorDraft? {
        try drafts(slot).first
    }

    /// The drafts kept for an editor (one per showing of it), newest first.
    public func drafts(_ slot: EditorDraft.Slot) throws -> [EditorDraft] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM drafts WHERE slot = ? ORDER BY saved_at DESC, editor", arguments: [slot.text]
            ).map(Self.draft)
        }
    }

    /// How many drafts are kept, and whether this showing of this editor has one.
    public func draftCount(slot: EditorDraft.Slot, editor: String) throws -> (all: Int, this: Bool) {
        try pool.read { db in
            let all = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM drafts") ?? 0
            let this =
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM drafts WHERE slot = ? AND editor = ?)",
                    arguments: [slot.text, editor]) ?? false
            return (all, this)
        }
    }

    /// Every kept draft, newest first.
    public func drafts() throws -> [EditorDraft] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM drafts ORDER BY saved_at DESC, slot").map(Self.draft)
        }
    }

    /// Forgets one showing's draft (its text was saved, or the member discarded it), or with no `editor` every
    /// draft of the slot (its conflict is resolved: no merged text applies any more).
    public func discardDraft(_ slot: EditorDraft.Slot, editor: String? = nil) throws {
        try pool.write { db in
            if let editor {
                try db.execute(
                    sql: "DELETE FROM drafts WHERE slot = ? AND editor = ?", arguments: [slot.text, editor])
            } else {
                try db.execute(sql: "DELETE FROM drafts WHERE slot = ?", arguments: [slot.text])
            }
        }
    }

    /// Whether `name` can name an editor's showing.
    public static func isEditorName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    static func draft(_ row: Row) -> EditorDraft {
        EditorDraft(
            slot: row["slot"], editor: row["editor"], title: row["title"], body: row["body"],
            visibility: (row["visibility"] as String?).flatMap(Visibility.init(rawValue:)), promptID: row["prompt_id"],
            savedAt: row["saved_at"])
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
