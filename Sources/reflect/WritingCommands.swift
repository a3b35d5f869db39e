import ArgumentParser
import Foundation
import ReflectionsClient
import ReflectionsModel

struct Write: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a new reflection (works offline); prints its id.",
        discussion: """
            The text comes from --file or standard input. Without --title, the first line of the text (up to 80 \
            characters) is the title. Reflections are private unless --visibility community.

              echo "Listening first." | reflect write --title "Allyship" --prompt 1
              reflect write --file draft.txt --visibility community
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The title (1–200 characters).") var title: String?
    @Option(help: "The prompt it answers ('reflect prompts' lists them).") var prompt: Int?
    @Option(help: "private (the default) or community.") var visibility: Visibility = .private
    @Option(help: "Read the text from this file ('-' or none: standard input).") var file: String?

    /// Every option is checked before any text is read, so that a story typed at the terminal is never thrown
    /// away for a title that is too long or a prompt that does not exist.
    func validate() throws {
        try validateTextOptions(title: title, prompt: prompt, file: file)
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let body = try readText(file: file == "-" ? nil : file, what: "reflection")
            let title = self.title ?? Self.defaultTitle(from: body)
            let reflection = try keepingDraft(body, home: global.homeURL, what: "reflection", resend: "write") {
                try store.write(title: title, body: body, visibility: visibility, promptID: prompt)
            }
            try store.close()
            if global.json { return try printJSON(reflection) }
            print(reflection.id.uuidString)
        }
    }

    static func defaultTitle(from body: String) -> String {
        let line =
            body.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        return line.count > 80 ? String(line.prefix(79)) + "…" : line
    }
}

struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change your reflection's title, text or visibility (works offline).",
        discussion: """
              reflect edit 3F2A91C0 --file revised.txt
              reflect edit 3F2A91C0 --visibility community
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The reflection's id (or its first 4+ characters).") var id: String
    @Option(help: "A new title.") var title: String?
    @Option(help: "Read the new text from this file ('-' for standard input).") var file: String?
    @Option(help: "private or community.") var visibility: Visibility?

    func validate() throws {
        if title == nil && file == nil && visibility == nil {
            throw ArgumentParser.ValidationError("Say what to change: --title, --file or --visibility.")
        }
        try validateTextOptions(title: title, prompt: nil, file: file)
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let (entity, uuid) = try store.resolveID(id)
            if entity == .comment {
                throw ClientError(
                    .invalidInput,
                    "\(shortID(uuid)) is a comment: change it with 'reflect comment --edit \(shortID(uuid)) --file F'.")
            }
            let body = try file.map { try readText(file: $0 == "-" ? nil : $0, what: "new text") }
            let reflection = try store.edit(id: uuid, title: title, body: body, visibility: visibility)
            try store.close()
            if global.json { return try printJSON(reflection) }
            print("Changed \(reflection.id.uuidString); 'reflect sync' sends it.")
        }
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete your reflection or comment (works offline).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The id (or its first 4+ characters).") var id: String

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let (entity, uuid) = try store.resolveID(id)
            try store.delete(entity, id: uuid)
            try store.close()
            if global.json { return try printJSON(["deleted": uuid.uuidString]) }
            print("Deleted \(entity.rawValue) \(uuid.uuidString).")
        }
    }
}

struct CommentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comment", abstract: "Comment on a community reflection (works offline); prints the comment's id.",
        discussion: """
            With --edit, the id is one of your comments, and its text is replaced.

              echo "Thank you for writing this." | reflect comment 3F2A91C0
              echo "Thank you, truly." | reflect comment --edit 7B11D2E4
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The reflection's id (or its first 4+ characters); with --edit, your comment's id.")
    var reflectionID: String
    @Option(help: "Read the comment from this file ('-' or none: standard input).") var file: String?
    @Flag(help: "Change the text of your comment with this id instead of writing a new one.") var edit = false

    func validate() throws {
        try validateTextOptions(title: nil, prompt: nil, file: file)
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            if edit {
                let (_, commentID) = try store.resolveID(reflectionID, entity: .comment)
                let body = try readText(file: file == "-" ? nil : file, what: "new comment")
                try keepingDraft(body, home: global.homeURL, what: "comment", resend: "comment --edit ID") {
                    try store.editComment(id: commentID, body: body)
                }
                try store.close()
                if global.json { return try printJSON(["changed": commentID.uuidString]) }
                return print("Changed comment \(commentID.uuidString); 'reflect sync' sends it.")
            }
            let (_, uuid) = try store.resolveID(reflectionID, entity: .reflection)
            let body = try readText(file: file == "-" ? nil : file, what: "comment")
            let comment = try keepingDraft(body, home: global.homeURL, what: "comment", resend: "comment ID") {
                try store.comment(on: uuid, body: body)
            }
            try store.close()
            if global.json { return try printJSON(comment) }
            print(comment.id.uuidString)
        }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the reflections on this device, newest first.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Only yours.") var mine = false
    @Option(help: "Only those answering this prompt.") var prompt: Int?

    func validate() throws {
        try validateTextOptions(title: nil, prompt: prompt, file: nil)
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let items = try store.reflections(mine: mine, promptID: prompt)
            try store.close()
            if global.json { return try printJSON(items) }
            if items.isEmpty {
                if let prompt {
                    print("No reflections on prompt \(prompt) yet: 'reflect write --prompt \(prompt)' starts one.")
                } else {
                    print("No reflections yet: 'reflect write' starts one.")
                }
                return
            }
            for item in items {
                let r = item.reflection
                var flags: [String] = [r.visibility.rawValue]
                if !item.isMine { flags.append("by another member") }
                if item.pendingMutations > 0 { flags.append("not synced") }
                if !item.revisions.isEmpty { flags.append("CONFLICT") }
                print("\(shortID(r.id))  \(timeText(r.createdAt))  \(r.title)  [\(flags.joined(separator: ", "))]")
            }
        }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a reflection with its comments; a conflicted one shows both sides and a diff against the base.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The id (or its first 4+ characters).") var id: String

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let (entity, uuid) = try store.resolveID(id)
            if entity == .comment {
                let comment = try store.comment(id: uuid)
                try store.close()
                if global.json { return try printJSON(comment) }
                print(
                    "Comment \(comment.comment.id.uuidString) on \(comment.comment.reflectionID.uuidString)"
                        + (comment.comment.deleted ? " · DELETED" : "")
                        + (comment.comment.hidden ? " · hidden by a moderator" : ""))
                print(comment.comment.body)
                return
            }
            let item = try store.reflection(id: uuid)
            let settings = try store.settings()
            try store.close()
            if global.json { return try printJSON(item) }
            let r = item.reflection
            print(r.title)
            print(String(repeating: "=", count: min(max(r.title.count, 3), 80)))
            var meta = ["id \(r.id.uuidString)", r.visibility.rawValue, "written \(timeText(r.createdAt))"]
            if let prompt = r.promptID, let text = Prompt.defaults.first(where: { $0.id == prompt })?.text {
                meta.append("prompt \(prompt): \(text)")
            }
            if item.pendingMutations > 0 { meta.append("\(item.pendingMutations) change(s) not synced") }
            if r.deleted { meta.append("DELETED by you ('reflect log' shows when)") }
            print(meta.joined(separator: " · "))
            print("")
            print(r.body)
            for revision in item.revisions {
                print("")
                print("CONFLICT — \(conflictInWords(revision, thisDevice: settings.clientID)):")
                if revision.fields.deleted || revision.kind == .editVersusDelete { continue }
                if let title = revision.fields.title, title != r.title {
                    print("  the kept title:    \(title)")
                    print("  the current title: \(r.title)")
                }
                // A conflict on the title alone shows no bodies: neither side changed them.
                let base = revision.base?.body ?? ""
                if revision.fields.body != base || r.body != base {
                    print("  the kept version's changes to the text both sides started from:")
                    print(unifiedDiff(from: base, to: revision.fields.body, indent: "    "))
                    print("  the current version's changes to it:")
                    print(unifiedDiff(from: base, to: r.body, indent: "    "))
                }
            }
            if !item.revisions.isEmpty {
                print("")
                print("Resolve with: reflect resolve \(shortID(r.id)) --mine | --theirs | --file MERGED")
            }
            if !item.comments.isEmpty {
                print("")
                print("Comments:")
                for c in item.comments {
                    let who = c.isMine ? "you" : shortID(c.comment.authorID)
                    print(
                        "- \(who), \(timeText(c.comment.createdAt))\(c.comment.hidden ? " (hidden by a moderator)" : ""): \(c.comment.body)"
                    )
                }
            }
        }
    }
}

/// A line diff: unchanged lines with two spaces, removed with "-", added with "+".
func unifiedDiff(from old: String, to new: String, indent: String) -> String {
    let a = TextMerge.lines(old)
    let b = TextMerge.lines(new)
    var out: [String] = []
    var position = 0
    func line(_ prefix: String, _ text: String) -> String {
        indent + prefix + text.trimmingCharacters(in: .newlines)
    }
    for hunk in Diff.hunks(a, b) {
        for i in position..<hunk.aStart { out.append(line("  ", a[i])) }
        for i in hunk.aStart..<hunk.aEnd { out.append(line("- ", a[i])) }
        for i in hunk.bStart..<hunk.bEnd { out.append(line("+ ", b[i])) }
        position = hunk.aEnd
    }
    for i in position..<a.count { out.append(line("  ", a[i])) }
    return out.joined(separator: "\n")
}

struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List your records with open conflicts.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let conflicts = try store.conflicts()
            let thisDevice = try store.settings().clientID
            try store.close()
            if global.json { return try printJSON(conflicts) }
            if conflicts.isEmpty {
                print("No open conflicts.")
                return
            }
            for conflict in conflicts {
                let count = conflict.revisions.count
                print("\(shortID(conflict.recordID))  \(conflict.title)  — \(count) conflict\(count == 1 ? "" : "s"):")
                for revision in conflict.revisions {
                    print("    \(conflictInWords(revision, thisDevice: thisDevice))")
                }
            }
            print(
                "See both sides with 'reflect show ID'; end it with 'reflect resolve ID --mine | --theirs | --file MERGED'."
            )
        }
    }
}

struct Resolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End a conflict: keep your version, take the other one, or give merged text.",
        discussion: """
            --mine keeps what this device did, --theirs what your other device did (or the current server \
            version when neither came from here), --file uses the merged text you wrote. The resolution reaches \
            your other devices on their next sync.

            When one device deleted the reflection and another edited it, the edit was kept and the delete is \
            the conflict: --mine on the device that deleted it deletes it; --mine on the device that edited it \
            keeps the edit (and --theirs does the opposite).
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The id (or its first 4+ characters).") var id: String
    @Flag(help: "Keep the version written on this device.") var mine = false
    @Flag(help: "Keep the version from the other device.") var theirs = false
    @Option(help: "Use the merged text in this file.") var file: String?

    func validate() throws {
        if [mine, theirs, file != nil].filter({ $0 }).count != 1 {
            throw ArgumentParser.ValidationError("Give exactly one of --mine, --theirs or --file MERGED.")
        }
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let (entity, uuid) = try store.resolveID(id)
            let choice: ResolveChoice
            if let file {
                choice = .merged(body: try readText(file: file, what: "merged text"))
            } else {
                let settings = try store.settings()
                let revisions = try store.conflicts().first { $0.recordID == uuid }?.revisions ?? []
                // The kept revision is the side that lost; is it what this device did? An edit-versus-delete
                // revision is the delete that an edit (from its device) undid: it is the other side's.
                let revisionIsMine: Bool
                switch revisions.last?.kind {
                case .editVersusDelete?: revisionIsMine = revisions.last?.clientID != settings.clientID
                case .text?, .deleteVersusEdit?, nil: revisionIsMine = revisions.last?.clientID == settings.clientID
                }
                choice = (mine == revisionIsMine) ? .takeRevision : .keepCurrent
            }
            try store.resolve(entity, id: uuid, choice: choice)
            try store.close()
            if global.json { return try printJSON(["resolved": uuid.uuidString]) }
            print("Resolved \(uuid.uuidString); 'reflect sync' sends it to your other devices.")
        }
    }
}

/// The checks on a writing command's options that can be made before its text is read: a title within the
/// limits, a prompt that exists, a file that can be read. A usage error (exit 64) says how to fix it.
func validateTextOptions(title: String?, prompt: Int?, file: String?) throws {
    if let title {
        do {
            _ = try Validation.title(title)
        } catch {
            throw ArgumentParser.ValidationError("--title: \(error.message)")
        }
    }
    if let prompt, !Prompt.defaults.contains(where: { $0.id == prompt }) {
        let ids = Prompt.defaults.map(\.id)
        throw ArgumentParser.ValidationError(
            "--prompt \(prompt) does not exist: use \(ids.first ?? 1) to \(ids.last ?? 6) ('reflect prompts' lists them)."
        )
    }
    if let file, file != "-", !FileManager.default.isReadableFile(atPath: file) {
        throw ArgumentParser.ValidationError("--file: cannot read \(file): check the path.")
    }
}

/// Runs `save` with text the member gave; if it fails, the text is kept in a file of the home's `drafts` folder
/// (mode 0600, like everything the client makes; its name starts with `what`) and the error says where and how to
/// send it again (`reflect RESEND --file PATH`), so that nothing typed is lost.
func keepingDraft<T>(_ text: String, home: URL, what: String, resend: String, _ save: () throws -> T) throws -> T {
    do {
        return try save()
    } catch let error as ClientError {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw error }
        let folder = home.appendingPathComponent("drafts")
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let path = folder.appendingPathComponent("\(what)-\(stamp)-\(UUID().uuidString.prefix(8)).txt")
        var kept = error
        do {
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try text.write(to: path, atomically: true, encoding: .utf8)
            let again =
                switch what {
                case "comment": "comment ID"
                case "new comment": "comment --edit ID"
                default: "write"
                }
            kept.message +=
                " Your text is kept in \(path.path): fix it there, then 'reflect \(again) --file \(path.path)'."
        } catch let failure {
            kept.message +=
                " Your text could not be kept as a draft either (\(failure.localizedDescription)): copy it now."
        }
        throw kept
    }
}

/// A conflict revision in plain words, naming devices as the member knows them.
func conflictInWords(_ revision: ConflictRevision, thisDevice: UUID?) -> String {
    let device = revision.clientID == thisDevice ? "this device" : "your other device (\(shortID(revision.clientID)))"
    switch revision.kind {
    case .text:
        return "\(device) changed the same words; its version is kept beside the current one"
    case .deleteVersusEdit:
        return "deleted on \(device) while it was edited elsewhere; the edit was kept"
    case .editVersusDelete:
        return "edited on \(device) after it was deleted elsewhere; the edit brought it back"
    }
}
