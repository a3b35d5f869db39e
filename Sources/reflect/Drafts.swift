import Foundation
import ReflectionsClient
import ReflectionsModel

/// Text a member typed that is not (yet) in the store: kept as plain files in the home's `drafts` folder (0700,
/// files 0600), one per draft, so that it can be read and fixed with any editor even if `reflect` cannot start.
///
/// A file is named `KIND-STAMP-ID.txt`, KIND being `reflection`, `comment-RECORD` (a comment on that
/// reflection, or new text for that comment) or `edit-RECORD` (new text for that reflection), RECORD being the
/// first 8 characters of the id; text still open in an editor is `editing-KIND-STAMP-ID.txt` (listed too: if `reflect` was
/// stopped meanwhile, it is still the member's text). `reflect drafts` lists them; `write --draft ID`,
/// `comment REFLECTION --draft ID` and `edit RECORD --draft ID` send one of the matching kind and remove it
/// once saved.
struct Drafts {
    let folder: URL

    init(home: URL) {
        folder = home.appendingPathComponent("drafts")
    }

    /// One kept draft.
    struct Draft: Codable {
        var id: String
        /// `reflection`, `comment` or `edit`.
        var kind: String
        /// What the text is for (the first 8 characters of an id): the reflection an `edit` draft changes, the
        /// reflection a `comment` draft answers or the comment it changes. A draft is sent only to its record.
        var record: String?
        /// Whether it is (or was, when `reflect` stopped) still open in an editor.
        var inEditor: Bool
        var path: String
        /// When it was saved (milliseconds since 1970).
        var savedAt: Int64
        var firstLine: String
    }

    /// The file name prefix of a kind of draft.
    static func prefix(kind: String, record: String?) -> String {
        record.map { "\(kind)-\($0)" } ?? kind
    }

    /// Keeps `text` as a new draft and returns it.
    func save(_ text: String, kind: String, record: String? = nil, inEditor: Bool = false) throws -> Draft {
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let id = String(UUID().uuidString.prefix(8))
        let name = (inEditor ? "editing-" : "") + "\(Self.prefix(kind: kind, record: record))-\(stamp)-\(id).txt"
        let path = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: path, options: .withoutOverwriting)
        return try draft(at: path)
    }

    /// Replaces a draft's text, and ends its time in the editor; returns it as it is now.
    func finish(_ draft: Draft, text: String) throws -> Draft {
        let from = URL(fileURLWithPath: draft.path)
        try Data(text.utf8).write(to: from, options: .atomic)
        guard draft.inEditor else { return try self.draft(at: from) }
        let to = from.deletingLastPathComponent().appendingPathComponent(
            String(from.lastPathComponent.dropFirst("editing-".count)))
        try FileManager.default.moveItem(at: from, to: to)
        return try self.draft(at: to)
    }

    /// Every draft, newest first.
    func all() throws -> [Draft] {
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        return try names.filter { $0.hasSuffix(".txt") }
            .map { try draft(at: folder.appendingPathComponent($0)) }
            .sorted { ($0.savedAt, $0.id) > ($1.savedAt, $1.id) }
    }

    /// The draft with this id (or a unique prefix of at least 4 characters, any case), of one of `kinds`, and
    /// — when it names one — for `record` (so that text meant for one reflection or comment never lands on
    /// another).
    func find(_ id: String, kinds: Set<String>, for record: UUID? = nil) throws -> Draft {
        let wanted = id.uppercased()
        guard wanted.count >= 4 else {
            throw ClientError(
                .invalidInput, "Give at least 4 characters of the draft's id ('reflect drafts' lists them).")
        }
        let matches = try all().filter { $0.id.uppercased().hasPrefix(wanted) }
        guard let first = matches.first else {
            throw ClientError(.notFound, "There is no draft \(id): 'reflect drafts' lists them.")
        }
        guard matches.count == 1 else {
            throw ClientError(
                .ambiguousID, "\(id) names \(matches.count) drafts (\(matches.map(\.id).joined(separator: ", "))).")
        }
        guard kinds.contains(first.kind) else {
            throw ClientError(
                .invalidInput,
                "Draft \(first.id) is a \(first.kind == "edit" ? "change to reflection \(first.record ?? "")" : first.kind), "
                    + "not a \(kinds.sorted().joined(separator: " or ")): 'reflect drafts' says how to send each.")
        }
        if let record, let meant = first.record, !record.uuidString.hasPrefix(meant) {
            throw ClientError(
                .invalidInput,
                "Draft \(first.id) was written for \(meant), not \(record.uuidString.prefix(8)): send it there, or copy "
                    + "its text ('reflect drafts \(first.id)') into a new one.")
        }
        return first
    }

    func text(of draft: Draft) throws -> String {
        guard let data = FileManager.default.contents(atPath: draft.path),
            let text = String(data: data, encoding: .utf8)
        else { throw ClientError(.invalidInput, "Cannot read the draft \(draft.path).") }
        return text
    }

    func remove(_ draft: Draft) throws {
        try FileManager.default.removeItem(atPath: draft.path)
    }

    private func draft(at path: URL) throws -> Draft {
        var name = path.deletingPathExtension().lastPathComponent
        let inEditor = name.hasPrefix("editing-")
        if inEditor { name.removeFirst("editing-".count) }
        let attributes = try FileManager.default.attributesOfItem(atPath: path.path)
        let saved = (attributes[.modificationDate] as? Date) ?? Date()
        let text = String(decoding: FileManager.default.contents(atPath: path.path) ?? Data(), as: UTF8.self)
        let firstLine =
            text.split(whereSeparator: \.isNewline).first.map { String($0.prefix(60)) } ?? "(empty)"
        let parts = name.split(separator: "-").map(String.init)
        let id = parts.last ?? name
        // Drafts made by earlier versions were named "comment-…", "new comment-…" or "reflection-…".
        let kind = name.hasPrefix("edit-") ? "edit" : name.contains("comment") ? "comment" : "reflection"
        // The record, when there is one, stands before the stamp (whose date holds dashes too) and is 8 long.
        let record = parts.count > 1 && parts[1].count == 8 && kind != "reflection" ? parts[1] : nil
        return Draft(
            id: id.count == 8 ? id : name, kind: kind, record: record,
            inEditor: inEditor, path: path.path, savedAt: Int64(saved.timeIntervalSince1970 * 1000),
            firstLine: firstLine)
    }
}

/// Opens the member's editor on `initial` text, like `git commit`: `$VISUAL`, else `$EDITOR`, else `nano` or
/// `vi` when installed. Lines of `notes` are shown as `# ` comments and removed afterwards (the member's own
/// lines that start with `#` are kept).
///
/// The file lives in the home's `drafts` folder from the start, and what the editor leaves becomes a draft that
/// the caller removes only once the text is saved (``saving(_:kept:home:kind:record:resend:_:)``): text typed in an
/// editor is never lost, whether the editor, the save, or `reflect` itself fails.
///
/// Returns `nil` when no editor can be found (the caller then reads standard input as before).
func composeInEditor(initial: String, notes: [String], home: URL, kind: String, record: String? = nil) throws
    -> (text: String, draft: Drafts.Draft)?
{
    let environment = ProcessInfo.processInfo.environment
    let candidates = [environment["VISUAL"], environment["EDITOR"]].compactMap { $0 }.filter {
        !$0.trimmingCharacters(in: .whitespaces).isEmpty
    }
    let installed = ["nano", "vi"].first { name in
        (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }
    guard let editor = candidates.first ?? installed else { return nil }
    let drafts = Drafts(home: home)
    let commentLines = notes.map { "# \($0)" }
    let template =
        initial + (initial.hasSuffix("\n") || initial.isEmpty ? "" : "\n") + "\n"
        + commentLines.joined(separator: "\n") + "\n"
    let editing = try drafts.save(template, kind: kind, record: record, inEditor: true)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    // The editor setting may carry arguments (`code --wait`), as with git.
    process.arguments = ["-c", "\(editor) \"$1\"", "reflect-editor", editing.path]
    try process.run()
    process.waitUntilExit()
    let written = String(decoding: FileManager.default.contents(atPath: editing.path) ?? Data(), as: UTF8.self)
    let noteSet = Set(commentLines)
    let text = written.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !noteSet.contains(String($0)) }.joined(separator: "\n")
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let typed = !text.isEmpty && text != initial.trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationStatus == 0 else {
        var message = "The editor (\(editor)) stopped with status \(process.terminationStatus)."
        if typed {
            let draft = try drafts.finish(editing, text: text)
            message += " Your text is kept as draft \(draft.id) (\(draft.path)); 'reflect drafts' lists it."
        } else {
            try? drafts.remove(editing)
            message += " Nothing was saved."
        }
        throw ClientError(.invalidInput, message)
    }
    guard !text.isEmpty else {
        try? drafts.remove(editing)
        throw ClientError(.nothingToDo, "Nothing written: the text was empty, so nothing was saved.")
    }
    return (text, try drafts.finish(editing, text: text))
}

/// The text a writing command works on: `--file PATH`, `--file -` (standard input, never an editor), or with no
/// `--file` the member's editor when standard input is a terminal (standard input otherwise, for scripts). Text
/// from the editor comes with the draft that holds it until it is saved.
func readWriting(
    file: String?, home: URL, what: String, kind: String, record: String? = nil, initial: String = "",
    notes: [String] = []
) throws -> (text: String, kept: Drafts.Draft?) {
    if let file, file != "-" { return (try readText(file: file, what: what), nil) }
    if file == nil, isatty(STDIN_FILENO) == 1,
        let (text, draft) = try composeInEditor(
            initial: initial, notes: notes, home: home, kind: kind, record: record)
    {
        return (text, draft)
    }
    return (try readText(file: nil, what: what), nil)
}

/// Runs `save` with text the member gave, so that nothing typed is ever lost: once it is saved, the draft that
/// held it (`kept`: from `--draft` or the editor) is removed; if saving fails — refused text, a busy or full
/// disk, anything — the text stays a draft (a new one when it had none; mode 0600, see ``Drafts``) and the error
/// says where it is and how to send it again (`resend`, a `reflect` command line in which `{id}` and `{path}`
/// name the draft).
func saving<T>(
    _ text: String, kept: Drafts.Draft?, home: URL, kind: String, record: String? = nil, resend: String,
    _ save: () throws -> T
) throws -> T {
    do {
        let result = try save()
        if let kept { try? Drafts(home: home).remove(kept) }
        return result
    } catch {
        var failure = error as? ClientError ?? ClientError(.storage, "Could not save it here: \(error).")
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw failure }
        // The advice for the failure first, then where the text is kept.
        failure.message = failure.adviceMessage
        failure.next = nil
        do {
            let draft = try kept ?? Drafts(home: home).save(text, kind: kind, record: record)
            let again = resend.replacingOccurrences(of: "{id}", with: draft.id)
                .replacingOccurrences(of: "{path}", with: draft.path)
            failure.message +=
                " Your text is kept as draft \(draft.id) (\(draft.path)): fix what is wrong, then 'reflect \(again)'."
        } catch let keeping {
            failure.message +=
                " Your text could not be kept as a draft either (\(keeping.localizedDescription)): copy it now."
        }
        throw failure
    }
}
