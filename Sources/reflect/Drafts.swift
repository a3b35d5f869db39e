import Foundation
import ReflectionsClient
import ReflectionsModel

/// Text a member typed that is not (yet) in the store: kept as plain files in the home's `drafts` folder (0700,
/// files 0600), one per draft, so that it can be read and fixed with any editor even if `reflect` cannot start.
///
/// A draft's id is the 8 characters before `.txt`; `reflect drafts` lists them, `reflect write --draft ID` and
/// `reflect comment REFLECTION --draft ID` send one (and remove it once it is saved).
struct Drafts {
    let folder: URL

    init(home: URL) {
        folder = home.appendingPathComponent("drafts")
    }

    /// One kept draft.
    struct Draft: Codable {
        var id: String
        /// `reflection` or `comment`.
        var kind: String
        var path: String
        /// When it was saved (milliseconds since 1970).
        var savedAt: Int64
        var firstLine: String
    }

    /// Keeps `text` as a new draft of `kind` and returns it.
    func save(_ text: String, kind: String) throws -> Draft {
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let id = String(UUID().uuidString.prefix(8))
        let path = folder.appendingPathComponent("\(kind)-\(stamp)-\(id).txt")
        try Data(text.utf8).write(to: path, options: .withoutOverwriting)
        return try draft(at: path)
    }

    /// Every draft, newest first.
    func all() throws -> [Draft] {
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        return try names.filter { $0.hasSuffix(".txt") && !$0.hasPrefix("editing-") }
            .map { try draft(at: folder.appendingPathComponent($0)) }
            .sorted { ($0.savedAt, $0.id) > ($1.savedAt, $1.id) }
    }

    /// The draft with this id (or a unique prefix of it, any case).
    func find(_ id: String) throws -> Draft {
        let wanted = id.uppercased()
        let matches = try all().filter { $0.id.uppercased().hasPrefix(wanted) }
        guard !wanted.isEmpty, let first = matches.first else {
            throw ClientError(.notFound, "There is no draft \(id): 'reflect drafts' lists them.")
        }
        guard matches.count == 1 else {
            throw ClientError(
                .ambiguousID, "\(id) names \(matches.count) drafts (\(matches.map(\.id).joined(separator: ", "))).")
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
        let name = path.deletingPathExtension().lastPathComponent
        let attributes = try FileManager.default.attributesOfItem(atPath: path.path)
        let saved = (attributes[.modificationDate] as? Date) ?? Date()
        let text = String(decoding: FileManager.default.contents(atPath: path.path) ?? Data(), as: UTF8.self)
        let firstLine =
            text.split(whereSeparator: \.isNewline).first.map { String($0.prefix(60)) } ?? "(empty)"
        let id = name.split(separator: "-").last.map(String.init) ?? name
        return Draft(
            id: id.count == 8 ? id : name, kind: name.hasPrefix("comment") ? "comment" : "reflection",
            path: path.path, savedAt: Int64(saved.timeIntervalSince1970 * 1000), firstLine: firstLine)
    }
}

/// Opens the member's editor on `initial` text, like `git commit`: `$VISUAL`, else `$EDITOR`, else `nano` or
/// `vi` when installed. Lines of `notes` are shown as `# ` comments and removed afterwards (the member's own
/// lines that start with `#` are kept). The file is written in the home's `drafts` folder, so that text typed in
/// an editor that then fails is never lost: it becomes a draft.
///
/// Returns `nil` when no editor can be found (the caller then reads standard input as before).
func composeInEditor(initial: String, notes: [String], home: URL, kind: String) throws -> String? {
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
    try FileManager.default.createDirectory(
        at: drafts.folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let file = drafts.folder.appendingPathComponent("editing-\(UUID().uuidString.prefix(8)).txt")
    let commentLines = notes.map { "# \($0)" }
    let template =
        initial + (initial.hasSuffix("\n") || initial.isEmpty ? "" : "\n") + "\n"
        + commentLines.joined(separator: "\n") + "\n"
    try Data(template.utf8).write(to: file, options: .withoutOverwriting)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    // The editor setting may carry arguments (`code --wait`), as with git.
    process.arguments = ["-c", "\(editor) \"$1\"", "reflect-editor", file.path]
    try process.run()
    process.waitUntilExit()
    let written = String(decoding: FileManager.default.contents(atPath: file.path) ?? Data(), as: UTF8.self)
    let noteSet = Set(commentLines)
    let text = written.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !noteSet.contains(String($0)) }.joined(separator: "\n")
        .trimmingCharacters(in: .whitespacesAndNewlines)
    try? FileManager.default.removeItem(at: file)
    guard process.terminationStatus == 0 else {
        var message = "The editor (\(editor)) stopped with status \(process.terminationStatus)."
        if !text.isEmpty, text != initial.trimmingCharacters(in: .whitespacesAndNewlines) {
            let draft = try drafts.save(text, kind: kind)
            message += " Your text is kept as draft \(draft.id) (\(draft.path)); 'reflect drafts' lists it."
        } else {
            message += " Nothing was saved."
        }
        throw ClientError(.invalidInput, message)
    }
    guard !text.isEmpty else {
        throw ClientError(.nothingToDo, "Nothing written: the text was empty, so nothing was saved.")
    }
    return text
}

/// The text a writing command works on: `--file PATH`, `--file -` (standard input, never an editor), or with no
/// `--file` the member's editor when standard input is a terminal (standard input otherwise, for scripts).
func readWriting(
    file: String?, home: URL, what: String, kind: String, initial: String = "", notes: [String] = []
) throws -> String {
    if let file, file != "-" { return try readText(file: file, what: what) }
    if file == nil, isatty(STDIN_FILENO) == 1,
        let text = try composeInEditor(initial: initial, notes: notes, home: home, kind: kind)
    {
        return text
    }
    return try readText(file: nil, what: what)
}
