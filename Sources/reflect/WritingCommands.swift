import ArgumentParser
import Foundation
import ReflectionsClient
import ReflectionsModel

struct Write: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a new reflection (works offline); prints its id.",
        discussion: """
            At a terminal, your editor opens ($VISUAL, else $EDITOR, else nano or vi), like 'git commit': write, \
            save and quit; an empty text cancels. Otherwise the text comes from --file, or from standard input \
            ('--file -' always reads standard input). Without --title, the first line of the text (up to 80 \
            characters) is the title. Reflections are private unless --visibility community.

            If the reflection cannot be saved (a title too long, say), the text is kept as a draft: \
            'reflect drafts' lists drafts, and '--draft ID' writes one (and removes it once saved).

              reflect write --title "Allyship" --prompt 1
              echo "Listening first." | reflect write --title "Allyship" --prompt 1
              reflect write --file draft.txt --visibility community
              reflect write --draft 3F2A91C0 --title "Allyship, again"
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The title (1–200 characters).") var title: String?
    @Option(help: "The prompt it answers ('reflect prompts' lists them).") var prompt: Int?
    @Option(help: "private (the default) or community.") var visibility: Visibility = .private
    @Option(help: "Read the text from this file ('-': standard input).") var file: String?
    @Option(help: "Write the text of this draft ('reflect drafts' lists them); it is removed once saved.")
    var draft: String?

    /// Every option is checked before any text is read, so that a story typed at the terminal is never thrown
    /// away for a title that is too long or a prompt that does not exist.
    func validate() throws {
        try validateTextOptions(title: title, prompt: prompt, file: file, draft: draft)
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let drafts = Drafts(home: global.homeURL)
            let fromDraft = try draft.map { try drafts.find($0, kinds: ["reflection"]) }
            var notes = ["Write your reflection above; lines starting with '# ' like these are left out."]
            if let prompt, let text = Prompt.defaults.first(where: { $0.id == prompt })?.text {
                notes.append("Prompt \(prompt): \(text)")
            }
            if let title { notes.append("Title: \(title)") }
            notes.append("Save and quit to keep it (\(visibility.rawValue)); an empty text cancels.")
            let (body, kept) =
                try fromDraft.map { (try drafts.text(of: $0), $0) }
                ?? readWriting(file: file, home: global.homeURL, what: "reflection", kind: "reflection", notes: notes)
            let title = self.title ?? Self.defaultTitle(from: body)
            let reflection = try saving(
                body, kept: kept, home: global.homeURL, kind: "reflection", resend: "write --draft {id}"
            ) {
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
            With no option at a terminal, your editor opens on the current text ($VISUAL, else $EDITOR, else nano \
            or vi); save and quit to change it.

              reflect edit 3F2A91C0
              reflect edit 3F2A91C0 --file revised.txt
              reflect edit 3F2A91C0 --visibility community
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The reflection's id (or its first 4+ characters).") var id: String
    @Option(help: "A new title.") var title: String?
    @Option(help: "Read the new text from this file ('-' for standard input).") var file: String?
    @Option(help: "private or community.") var visibility: Visibility?
    @Option(help: "Use the text of this draft ('reflect drafts' lists them); it is removed once saved.")
    var draft: String?

    func validate() throws {
        if title == nil && file == nil && visibility == nil && draft == nil && isatty(STDIN_FILENO) != 1 {
            throw ArgumentParser.ValidationError(
                "Say what to change: --title, --file or --visibility (at a terminal, no option opens your editor).")
        }
        try validateTextOptions(title: title, prompt: nil, file: file, draft: draft)
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let (entity, uuid) = try store.resolveID(id)
            if entity == .comment {
                throw ClientError(
                    .invalidInput,
                    "\(shortID(uuid)) is a comment: change it with 'reflect comment --edit \(shortID(uuid))'.")
            }
            let drafts = Drafts(home: global.homeURL)
            var kept = try draft.map { try drafts.find($0, kinds: ["edit", "reflection"], for: uuid) }
            var body = try file.map { try readText(file: $0 == "-" ? nil : $0, what: "new text") }
            if let kept { body = try drafts.text(of: kept) }
            if title == nil && file == nil && visibility == nil && draft == nil {
                let current = try store.reflection(id: uuid).reflection
                let (edited, editing) = try readWriting(
                    file: nil, home: global.homeURL, what: "new text", kind: "edit", record: shortID(uuid),
                    initial: current.body,
                    notes: [
                        "Change the text of \"\(current.title)\" above; lines starting with '# ' like these are left out.",
                        "Save and quit to keep the change; quit without saving to leave it as it was.",
                    ])
                guard edited != current.body.trimmingCharacters(in: .whitespacesAndNewlines) else {
                    if let editing { try? drafts.remove(editing) }
                    try store.close()
                    if global.json { return try printJSON(["unchanged": uuid.uuidString]) }
                    return print("No change to \(shortID(uuid)).")
                }
                body = edited
                kept = editing
            }
            let newBody = body
            let reflection = try saving(
                newBody ?? "", kept: kept, home: global.homeURL, kind: "edit", record: shortID(uuid),
                resend: "edit \(shortID(uuid)) --draft {id}"
            ) {
                try store.edit(id: uuid, title: title, body: newBody, visibility: visibility)
            }
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
            At a terminal, your editor opens (as for 'reflect write'); otherwise the text comes from --file or \
            standard input. With --edit, the id is one of your comments, and its text is replaced (at a terminal, \
            the editor opens on it). A comment that cannot be saved is kept as a draft ('reflect drafts').

              reflect comment 3F2A91C0
              echo "Thank you for writing this." | reflect comment 3F2A91C0
              echo "Thank you, truly." | reflect comment --edit 7B11D2E4
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The reflection's id (or its first 4+ characters); with --edit, your comment's id.")
    var reflectionID: String
    @Option(help: "Read the comment from this file ('-': standard input).") var file: String?
    @Option(help: "Send the text of this draft ('reflect drafts' lists them); it is removed once saved.")
    var draft: String?
    @Flag(help: "Change the text of your comment with this id instead of writing a new one.") var edit = false

    func validate() throws {
        try validateTextOptions(title: nil, prompt: nil, file: file, draft: draft)
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let drafts = Drafts(home: global.homeURL)
            if edit {
                let (_, commentID) = try store.resolveID(reflectionID, entity: .comment)
                let fromDraft = try draft.map { try drafts.find($0, kinds: ["comment"], for: commentID) }
                let current = try store.comment(id: commentID).comment.body
                let (body, kept) =
                    try fromDraft.map { (try drafts.text(of: $0), $0) }
                    ?? readWriting(
                        file: file, home: global.homeURL, what: "new comment", kind: "comment",
                        record: shortID(commentID), initial: current,
                        notes: ["Change your comment above; lines starting with '# ' like this one are left out."])
                try saving(
                    body, kept: kept, home: global.homeURL, kind: "comment", record: shortID(commentID),
                    resend: "comment --edit \(shortID(commentID)) --draft {id}"
                ) {
                    try store.editComment(id: commentID, body: body)
                }
                try store.close()
                if global.json { return try printJSON(["changed": commentID.uuidString]) }
                return print("Changed comment \(commentID.uuidString); 'reflect sync' sends it.")
            }
            let (_, uuid) = try store.resolveID(reflectionID, entity: .reflection)
            let fromDraft = try draft.map { try drafts.find($0, kinds: ["comment"], for: uuid) }
            let title = (try? store.reflection(id: uuid).reflection.title) ?? ""
            let (body, kept) =
                try fromDraft.map { (try drafts.text(of: $0), $0) }
                ?? readWriting(
                    file: file, home: global.homeURL, what: "comment", kind: "comment", record: shortID(uuid),
                    notes: [
                        "Your comment on \"\(title)\" above; lines starting with '# ' like these are left out.",
                        "Save and quit to keep it; an empty text cancels.",
                    ])
            let comment = try saving(
                body, kept: kept, home: global.homeURL, kind: "comment", record: shortID(uuid),
                resend: "comment \(shortID(uuid)) --draft {id}"
            ) {
                try store.comment(on: uuid, body: body)
            }
            try store.close()
            if global.json { return try printJSON(comment) }
            print(comment.id.uuidString)
        }
    }
}

/// `reflect drafts`: the text kept when something could not be saved (or an editor failed).
struct DraftsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drafts", abstract: "List the drafts kept on this device, show one, or delete one.",
        discussion: """
            Text that could not be saved (a title too long, a reflection deleted meanwhile, an editor that failed) \
            is kept as a draft in the home's drafts folder, never thrown away. Send one with \
            'reflect write --draft ID' (or 'reflect comment REFLECTION --draft ID'); it is removed once saved.

              reflect drafts
              reflect drafts 3F2A91C0
              reflect drafts --delete 3F2A91C0
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Print the text of this draft.") var id: String?
    @Option(help: "Delete this draft (its text is gone for good).") var delete: String?

    func run() async throws {
        try await runReporting {
            let drafts = Drafts(home: global.homeURL)
            if let delete {
                let draft = try drafts.find(delete, kinds: ["reflection", "comment", "edit"])
                try drafts.remove(draft)
                if global.json { return try printJSON(["deleted": draft.id]) }
                return print("Deleted draft \(draft.id).")
            }
            if let id {
                let draft = try drafts.find(id, kinds: ["reflection", "comment", "edit"])
                let text = try drafts.text(of: draft)
                if global.json { return try printJSON(["id": draft.id, "kind": draft.kind, "text": text]) }
                return print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            }
            let all = try drafts.all()
            if global.json { return try printJSON(all) }
            if all.isEmpty { return print("No drafts: everything you wrote is saved.") }
            for draft in all {
                let kind = draft.kind == "edit" ? "new text for \(draft.record ?? "?")" : draft.kind
                let note = draft.inEditor ? "  (left in an editor)" : ""
                print("\(draft.id)  \(timeText(draft.savedAt))  \(kind)  \(draft.firstLine)\(note)")
            }
            print(
                "Send one with 'reflect write --draft ID', 'reflect comment REFLECTION --draft ID' or "
                    + "'reflect edit REFLECTION --draft ID' (new text for a reflection).")
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
                if !item.isMine { flags.append("by \(authorName(r.authorName))") }
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
    @Flag(help: "Print only the text (for pipes: 'reflect show ID --body > copy.txt').") var body = false

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let (entity, uuid) = try store.resolveID(id)
            if body {
                let text =
                    entity == .comment
                    ? try store.comment(id: uuid).comment.body : try store.reflection(id: uuid).reflection.body
                try store.close()
                if global.json { return try printJSON(["id": uuid.uuidString, "body": text]) }
                return print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            }
            if entity == .comment {
                let comment = try store.comment(id: uuid)
                try store.close()
                if global.json { return try printJSON(comment) }
                print(
                    "Comment \(comment.comment.id.uuidString) on \(comment.comment.reflectionID.uuidString)"
                        + (comment.comment.deleted ? " · DELETED by \(comment.isMine ? "you" : "its author")" : "")
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
            var meta = [
                "id \(r.id.uuidString)", item.isMine ? "by you" : "by \(authorName(r.authorName))",
                r.visibility.rawValue, "written \(timeText(r.createdAt))",
            ]
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
                    let who = c.isMine ? "you" : authorName(c.comment.authorName)
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
/// limits, a prompt that exists, a file that can be read, not both a file and a draft. A usage error (exit 64)
/// says how to fix it.
func validateTextOptions(title: String?, prompt: Int?, file: String?, draft: String? = nil) throws {
    if draft != nil && file != nil { throw ArgumentParser.ValidationError("Give --file or --draft, not both.") }
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

/// An author as members know them: their display name (from servers that predate names, "another member").
func authorName(_ name: String?) -> String {
    name ?? "another member"
}

/// A conflict revision in plain words, naming devices as the member knows them: "this device", "your laptop"
/// (the name given at `reflect init --device-name`), or "your other device" — never an id.
func conflictInWords(_ revision: ConflictRevision, thisDevice: UUID?) -> String {
    let device =
        revision.clientID == thisDevice
        ? "this device" : revision.deviceName.map { "your \($0)" } ?? "your other device"
    switch revision.kind {
    case .text:
        return "\(device) changed the same words; its version is kept beside the current one"
    case .deleteVersusEdit:
        return "deleted on \(device) while it was edited elsewhere; the edit was kept"
    case .editVersusDelete:
        return "edited on \(device) after it was deleted elsewhere; the edit brought it back"
    }
}
