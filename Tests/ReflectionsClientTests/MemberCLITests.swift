import Foundation
import GRDB
import ReflectionsClient
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// `reflect` as a member at a terminal uses it: the editor, drafts, names, devices and sync counts, through the
/// real binary (on a pseudo-terminal where the behaviour depends on one).
@Suite(.serialized) struct MemberCLITests {
    /// A stand-in editor: copies the file it was given to `seen`, then writes `text` into it and exits `status`.
    static func editor(writing text: String, status: Int = 0) throws -> (command: String, seen: URL) {
        let folder = TemporaryDirectory.make(prefix: "editor")
        let script = folder.appendingPathComponent("editor.sh")
        let seen = folder.appendingPathComponent("seen.txt")
        let typed = folder.appendingPathComponent("typed.txt")
        try Data(text.utf8).write(to: typed)
        try Data(
            """
            #!/bin/sh
            cp "$1" '\(seen.path)'
            cp '\(typed.path)' "$1"
            exit \(status)

            """.utf8
        ).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: script.path)
        return (script.path, seen)
    }

    /// A home set up for a server that is not there: everything here works offline.
    static func offlineHome() async throws -> String {
        let home = TemporaryDirectory.make(prefix: "cli").path
        let initialize = try await CLIRunner.run(
            "reflect", ["--home", home, "init", "--server", "https://127.0.0.1:1", "--ca", "/dev/null"])
        #expect(initialize.status == 0, "\(initialize.stderr)")
        return home
    }

    @Test func atATerminalTheEditorOpensAndWhatIsTypedIsSaved() async throws {
        let home = try await Self.offlineHome()
        let (editor, seen) = try Self.editor(writing: "Typed in the editor.\n# A line of mine that starts with '#'.\n")
        let write = try await CLIRunner.runInTerminal(
            "reflect",
            ["--home", home, "write", "--title", "On the ward", "--prompt", "2", "--visibility", "community"],
            environment: ["EDITOR": editor, "VISUAL": ""])
        #expect(write.status == 0, "\(write.stdout)")
        let template = try String(contentsOf: seen, encoding: .utf8)
        #expect(template.contains("# Prompt 2: How can a growing awareness of racism be shared"))
        #expect(template.contains("# Title: On the ward"))
        let id = try #require(write.stdout.split(separator: "\n").compactMap { UUID(uuidString: String($0)) }.first)
        let body = try await CLIRunner.run("reflect", ["--home", home, "show", id.uuidString, "--body"])
        // The template's notes are gone; the member's own '#' line stays.
        #expect(body.stdout == "Typed in the editor.\n# A line of mine that starts with '#'.\n")

        // `edit` with no option opens the current text; `$VISUAL` wins over `$EDITOR`.
        let (changer, changerSeen) = try Self.editor(writing: "Typed again, changed.\n")
        let edit = try await CLIRunner.runInTerminal(
            "reflect", ["--home", home, "edit", String(id.uuidString.prefix(8))],
            environment: ["VISUAL": changer, "EDITOR": "/bin/false"])
        #expect(edit.status == 0, "\(edit.stdout)")
        #expect(try String(contentsOf: changerSeen, encoding: .utf8).hasPrefix("Typed in the editor.\n"))
        let changed = try await CLIRunner.run("reflect", ["--home", home, "show", id.uuidString, "--body"])
        #expect(changed.stdout == "Typed again, changed.\n")

        // Saved unchanged: nothing is queued.
        let same = try await CLIRunner.runInTerminal(
            "reflect", ["--home", home, "edit", String(id.uuidString.prefix(8))],
            environment: ["VISUAL": "true", "EDITOR": ""])
        #expect(same.status == 0)
        #expect(same.stdout.contains("No change"))

        // A comment at the terminal, through the editor too.
        let (commenter, _) = try Self.editor(writing: "A comment from the editor.\n")
        let comment = try await CLIRunner.runInTerminal(
            "reflect", ["--home", home, "comment", id.uuidString], environment: ["EDITOR": commenter, "VISUAL": ""])
        #expect(comment.status == 0, "\(comment.stdout)")
        let shown = try await CLIRunner.run("reflect", ["--home", home, "show", id.uuidString])
        #expect(shown.stdout.contains("- you, "))
        #expect(shown.stdout.contains("A comment from the editor."))
    }

    @Test func anEditorThatFailsLeavesADraftAndAnEmptiedOneSavesNothing() async throws {
        let home = try await Self.offlineHome()
        let (failing, _) = try Self.editor(writing: "Half of a story.\n", status: 9)
        let failed = try await CLIRunner.runInTerminal(
            "reflect", ["--home", home, "write", "--title", "Half"], environment: ["EDITOR": failing, "VISUAL": ""])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("stopped with status 9"), "\(failed.stdout)")
        let listed = try await CLIRunner.run("reflect", ["--home", home, "--json", "drafts"])
        struct Draft: Decodable {
            var id: String
            var kind: String
            var path: String
        }
        let drafts = try JSONDecoder().decode([Draft].self, from: Data(listed.stdout.utf8))
        #expect(drafts.count == 1)
        let draft = try #require(drafts.first)
        #expect(failed.stdout.contains(draft.id))
        let text = try await CLIRunner.run("reflect", ["--home", home, "drafts", draft.id])
        #expect(text.stdout == "Half of a story.\n")

        // Sent from the draft: saved, and the draft is gone.
        let sent = try await CLIRunner.run(
            "reflect", ["--home", home, "write", "--draft", draft.id, "--title", "Whole"])
        #expect(sent.status == 0, "\(sent.stderr)")
        let id = sent.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try await CLIRunner.run("reflect", ["--home", home, "show", id, "--body"]).stdout == "Half of a story.\n")
        #expect(try await CLIRunner.run("reflect", ["--home", home, "drafts"]).stdout.hasPrefix("No drafts"))

        // An emptied text cancels: exit 1, nothing saved, no draft.
        let (emptying, _) = try Self.editor(writing: "\n\n")
        let empty = try await CLIRunner.runInTerminal(
            "reflect", ["--home", home, "write", "--title", "Nothing"], environment: ["EDITOR": emptying, "VISUAL": ""])
        #expect(empty.status == 1)
        #expect(empty.stdout.contains("Nothing written"))
        let list = try await CLIRunner.run("reflect", ["--home", home, "--json", "list"])
        #expect(try JSONDecoder().decode([LocalReflection].self, from: Data(list.stdout.utf8)).count == 1)
        #expect(try await CLIRunner.run("reflect", ["--home", home, "drafts"]).stdout.hasPrefix("No drafts"))

        // A draft that cannot be saved stays a draft; a missing one is "not found".
        let missing = try await CLIRunner.run("reflect", ["--home", home, "write", "--draft", "FFFFFFFF"])
        #expect(missing.status == 4)

        // Text from the editor that is then refused stays one draft (never a second copy), of the right kind, and
        // a comment cannot be sent from a reflection's draft (private text must not become a public comment).
        let (refused, _) = try Self.editor(writing: "A bell \u{07} in my story.\n")
        let bell = try await CLIRunner.runInTerminal(
            "reflect", ["--home", home, "write", "--title", "Bell"], environment: ["EDITOR": refused, "VISUAL": ""])
        #expect(bell.status == 1)
        let kept = try JSONDecoder().decode(
            [Draft].self,
            from: Data(try await CLIRunner.run("reflect", ["--home", home, "--json", "drafts"]).stdout.utf8))
        #expect(kept.map(\.kind) == ["reflection"])
        let keptID = try #require(kept.first?.id)
        #expect(bell.stdout.contains("draft \(keptID)"))
        let asComment = try await CLIRunner.run("reflect", ["--home", home, "comment", id, "--draft", keptID])
        #expect(asComment.status == 1)
        #expect(asComment.stderr.contains("is a reflection, not a comment"), "\(asComment.stderr)")
        let short = try await CLIRunner.run("reflect", ["--home", home, "write", "--draft", String(keptID.prefix(2))])
        #expect(short.status == 1)
        #expect(try await CLIRunner.run("reflect", ["--home", home, "drafts", "--delete", keptID]).status == 0)

        // New text for a reflection that cannot be saved is an "edit" draft, sent back with `edit --draft`.
        let (badEdit, _) = try Self.editor(writing: "Changed, with a bell \u{07}.\n")
        let failedEdit = try await CLIRunner.runInTerminal(
            "reflect", ["--home", home, "edit", id], environment: ["EDITOR": badEdit, "VISUAL": ""])
        #expect(failedEdit.status == 1)
        let edits = try JSONDecoder().decode(
            [Draft].self,
            from: Data(try await CLIRunner.run("reflect", ["--home", home, "--json", "drafts"]).stdout.utf8))
        #expect(edits.map(\.kind) == ["edit"])
        let editDraft = try #require(edits.first)
        #expect(
            failedEdit.stdout.contains("'reflect edit \(id.prefix(8)) --draft \(editDraft.id)'"), "\(failedEdit.stdout)"
        )
        try Data("Changed, without a bell.\n".utf8).write(to: URL(fileURLWithPath: editDraft.path))
        // New text written for one reflection never lands on another.
        let other = try await CLIRunner.run(
            "reflect", ["--home", home, "write", "--title", "Other"], stdin: "Another reflection.\n"
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let misplaced = try await CLIRunner.run("reflect", ["--home", home, "edit", other, "--draft", editDraft.id])
        #expect(misplaced.status == 1)
        #expect(misplaced.stderr.contains("was written for \(id.prefix(8))"), "\(misplaced.stderr)")
        #expect(
            try await CLIRunner.run("reflect", ["--home", home, "show", other, "--body"]).stdout
                == "Another reflection.\n")
        let fixed = try await CLIRunner.run("reflect", ["--home", home, "edit", id, "--draft", editDraft.id])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(
            try await CLIRunner.run("reflect", ["--home", home, "show", id, "--body"]).stdout
                == "Changed, without a bell.\n")
        #expect(try await CLIRunner.run("reflect", ["--home", home, "drafts"]).stdout.hasPrefix("No drafts"))

        // Text left in an editor when `reflect` was stopped is still listed.
        let orphan = URL(fileURLWithPath: home).appendingPathComponent(
            "drafts/editing-reflection-20261128T000000Z-ABCDEF12.txt")
        try Data("Typed before the terminal closed.\n".utf8).write(to: orphan)
        let listing = try await CLIRunner.run("reflect", ["--home", home, "drafts"])
        #expect(listing.stdout.contains("ABCDEF12"))
        #expect(listing.stdout.contains("left in an editor"))
        let badName = try await CLIRunner.run(
            "reflect", ["--home", home, "account", "--device-name", String(repeating: "x", count: 41)])
        #expect(badName.status == 64)
    }

    /// A sync that finds nothing to send or receive commits nothing to the device's database (issue 12), and
    /// `status` still says when it last found the device up to date.
    @Test func aSyncThatMovesNothingWritesNothing() async throws {
        try await LiveServer.with { server in
            let cli = try await CLIHome.initialized(for: server)
            let home = cli.path
            #expect(
                try await cli.run(
                    ["register", "--user", "amara", "--password-stdin"], stdin: "a long enough password\n"
                )
                .status == 0)
            _ = try await cli.run(["write", "--title", "First"], stdin: "Words.\n")
            #expect(try await cli.run(["sync"]).status == 0)
            // `data_version` changes when any other connection commits to the database.
            let watcher = try DatabaseQueue(path: home + "/reflect.sqlite")
            func version() throws -> Int { try watcher.read { try Int.fetchOne($0, sql: "PRAGMA data_version") ?? 0 } }
            let before = try version()
            for _ in 0..<3 { #expect(try await cli.run(["sync"]).stdout.contains("pushed 0, pulled 0")) }
            #expect(try version() == before, "a sync that moved nothing committed to the database")
            #expect(try await cli.run(["status"]).stdout.contains("up to date: at "))
            // The same check sees a sync that did move something.
            _ = try await cli.run(["write", "--title", "Second"], stdin: "More words.\n")
            let afterWrite = try version()
            #expect(afterWrite != before)
            #expect(try await cli.run(["sync"]).status == 0)
            #expect(try version() != afterWrite)
            try watcher.close()
        }
    }

    /// At a terminal, a new password is asked twice, and two that differ create no account.
    @Test func registeringAtATerminalAsksForThePasswordTwice() async throws {
        try await LiveServer.with { server in
            let home = try await CLIHome.initialized(for: server).path
            let differ = try await CLIRunner.runInTerminal(
                "reflect", ["--home", home, "register", "--user", "amara"],
                answers: [("New password", "a long enough password"), ("The same password again", "another long one")])
            #expect(differ.status == 1, "\(differ.stdout)")
            #expect(differ.stdout.contains("The two passwords differ"))
            let login = try await CLIRunner.run(
                "reflect", ["--home", home, "login", "--user", "amara", "--password-stdin"],
                stdin: "a long enough password\n")
            #expect(login.status == 6, "no account may have been made: \(login.stderr)")
            let same = try await CLIRunner.runInTerminal(
                "reflect", ["--home", home, "register", "--user", "amara"],
                answers: [
                    ("New password", "a long enough password"), ("The same password again", "a long enough password"),
                ])
            #expect(same.status == 0, "\(same.stdout)")
            #expect(same.stdout.contains("Registered and logged in as amara."))
        }
    }

    @Test func namesDevicesAndCountsInPlainWords() async throws {
        try await LiveServer.with { server in
            let homes = (0..<3).map { _ in TemporaryDirectory.make(prefix: "cli").path }
            let (laptop, phone, ben) = (homes[0], homes[1], homes[2])
            func run(_ home: String, _ arguments: [String], stdin: String = "") async throws -> CLIRunner.Output {
                try await CLIHome(path: home).run(arguments, stdin: stdin)
            }
            for (home, name) in [(laptop, "laptop"), (phone, "ward phone"), (ben, "desk")] {
                let initialize = try await run(
                    home, ["init", "--server", server.baseURL, "--pin", server.fingerprint, "--device-name", name])
                #expect(initialize.status == 0, "\(initialize.stderr)")
            }
            #expect(
                try await run(
                    laptop, ["register", "--user", "amara", "--display-name", "Amara O.", "--password-stdin"],
                    stdin: "a long enough password\n"
                ).status == 0)
            #expect(
                try await run(
                    phone, ["login", "--user", "amara", "--password-stdin"], stdin: "a long enough password\n"
                )
                .status == 0)
            #expect(
                try await run(ben, ["register", "--user", "ben", "--password-stdin"], stdin: "another long password\n")
                    .status == 0)
            let id = try await run(
                laptop, ["write", "--title", "Allyship", "--visibility", "community"], stdin: "One sentence.\n"
            ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            // The device's own change coming back is not "pulled".
            let first = try await run(laptop, ["sync"])
            #expect(first.stdout.contains("pushed 1, pulled 0"), "\(first.stdout)")
            _ = try await run(ben, ["sync"])
            let benList = try await run(ben, ["list"])
            #expect(benList.stdout.contains("[community, by Amara O.]"), "\(benList.stdout)")
            let benJSON = try await run(ben, ["--json", "list"])
            let items = try JSONDecoder().decode([LocalReflection].self, from: Data(benJSON.stdout.utf8))
            #expect(items.first?.reflection.authorName == "Amara O.")

            // A rename reaches the other member on their next sync.
            let rename = try await run(laptop, ["account", "--display-name", "Amara Okafor"])
            #expect(rename.status == 0, "\(rename.stderr)")
            _ = try await run(ben, ["sync"])
            #expect(try await run(ben, ["show", id]).stdout.contains("by Amara Okafor"))

            // A conflict names the other device by the name it was given, never by an id.
            _ = try await run(phone, ["sync"])
            // The other device learned the new name from the shared record that came back with it.
            #expect(try await run(phone, ["account"]).stdout.contains("display name: Amara Okafor"))
            let own = try JSONDecoder().decode(
                [LocalReflection].self, from: Data(try await run(phone, ["--json", "list"]).stdout.utf8))
            #expect(own.first?.reflection.authorName == "Amara Okafor")
            _ = try await run(phone, ["edit", id, "--file", "-"], stdin: "The phone's sentence.\n")
            _ = try await run(laptop, ["edit", id, "--file", "-"], stdin: "The laptop's sentence.\n")
            _ = try await run(laptop, ["sync"])
            _ = try await run(phone, ["sync"])
            _ = try await run(laptop, ["sync"])
            let onLaptop = try await run(laptop, ["conflicts"])
            #expect(onLaptop.stdout.contains("your ward phone changed the same words"), "\(onLaptop.stdout)")
            let onPhone = try await run(phone, ["conflicts"])
            #expect(onPhone.stdout.contains("this device changed the same words"), "\(onPhone.stdout)")
            for text in [onLaptop.stdout, onPhone.stdout] {
                let ids = text.split(separator: "\n").dropFirst().filter {
                    $0.range(of: "[0-9A-F]{8}", options: .regularExpression) != nil
                }
                #expect(ids.isEmpty, "an id in the conflict's words: \(ids)")
            }
        }
    }
}
