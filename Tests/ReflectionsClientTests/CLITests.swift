import Foundation
import ReflectionsClient
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// The `reflect` executable as a member uses it: exit codes, messages and `--json`.
@Suite(.serialized) struct CLITests {
    @Test func writingBeforeInitExitsWithCode3AndSaysWhatToRun() async throws {
        let home = TemporaryDirectory.make(prefix: "cli").path
        let output = try await CLIRunner.run("reflect", ["--home", home, "write", "--title", "t"], stdin: "text")
        #expect(output.status == 3)
        #expect(output.stderr.contains("reflect init --server"))
        #expect(output.stderr.split(separator: "\n").count == 1)
    }

    @Test func theTourWorksWithJSONOutput() async throws {
        try await LiveServer.with { server in
            let home = try await CLIHome.initialized(for: server).path
            let register = try await CLIRunner.run(
                "reflect", ["register", "--home", home, "--user", "amara", "--password-stdin"],
                stdin: "a long enough password\n")
            #expect(register.status == 0, "\(register.stderr)")
            let write = try await CLIRunner.run(
                "reflect", ["--home", home, "write", "--title", "Allyship", "--prompt", "1"],
                stdin: "Listening first.\n")
            #expect(write.status == 0)
            let id = write.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(UUID(uuidString: id) != nil)
            let sync = try await CLIRunner.run("reflect", ["--home", home, "--json", "sync"])
            #expect(sync.status == 0, "\(sync.stderr)")
            let summary = try JSONDecoder().decode(SyncSummaryShape.self, from: Data(sync.stdout.utf8))
            // The reflection coming back from the server is this device's own change: not counted as pulled.
            #expect(summary.pushed == 1 && summary.pulled == 0 && summary.openConflicts == 0)
            let show = try await CLIRunner.run("reflect", ["--home", home, "show", String(id.prefix(6))])
            #expect(show.stdout.contains("Listening first."))
            #expect(show.stdout.contains("What does great allyship look like?"))
            let empty = try await CLIRunner.run("reflect", ["--home", home, "write", "--title", "x"], stdin: "  \n")
            #expect(empty.status == 1)
            #expect(empty.stderr.contains("empty"))
            let unknown = try await CLIRunner.run("reflect", ["--home", home, "show", "ABCDEF12"])
            #expect(unknown.status == 4)
        }
    }

    /// Options are checked before any text is read: a mistake in them costs the member nothing they typed.
    @Test func badOptionsAreRefusedBeforeTheTextIsRead() async throws {
        let home = TemporaryDirectory.make(prefix: "cli").path
        let story = "A long story typed on the ward.\n"
        for (arguments, fragment) in [
            (["--title", String(repeating: "t", count: 201)], "--title"),
            (["--prompt", "9"], "--prompt 9 does not exist"),
            (["--file", "/nonexistent/draft.txt"], "cannot read /nonexistent/draft.txt"),
        ] {
            let output = try await CLIRunner.run("reflect", ["--home", home, "write"] + arguments, stdin: story)
            #expect(output.status == 64, "\(arguments): \(output.stderr)")
            #expect(output.stderr.contains(fragment), "\(arguments): \(output.stderr)")
            // Refused as usage, not after reading: the home was never even opened (init would say exit 3).
            #expect(!output.stderr.contains("reflect init"), "\(arguments)")
        }
    }

    @Test func registrationIsCheckedBeforeAnythingIsSent() async throws {
        try await LiveServer.with { server in
            let home = try await CLIHome.initialized(for: server).path
            // A handle that cannot exist: a usage error before the password is read.
            let badHandle = try await CLIRunner.run(
                "reflect", ["--home", home, "register", "--user", "A!", "--password-stdin"],
                stdin: "a long enough password\n")
            #expect(badHandle.status == 64, "\(badHandle.stderr)")
            // A short password: refused here, before the server is asked.
            let short = try await CLIRunner.run(
                "reflect", ["--home", home, "register", "--user", "amara", "--password-stdin"], stdin: "short\n")
            #expect(short.status == 1)
            #expect(short.stderr.contains("too short"))
            let registered = try await CLIRunner.run(
                "reflect", ["--home", home, "register", "--user", "amara", "--password-stdin"],
                stdin: "a long enough password\n")
            #expect(registered.status == 0, "\(registered.stderr)")
            // Another member on Amara's home: refused before any account is created.
            let other = try await CLIRunner.run(
                "reflect", ["--home", home, "register", "--user", "bo.k", "--password-stdin"],
                stdin: "another long password\n")
            #expect(other.status == 3)
            #expect(other.stderr.contains("belongs to 'amara'"))
            let members = try await server.store.members().map(\.member.handle)
            #expect(members == ["amara"])
        }
    }

    @Test func offlineSyncSaysSoInOneSentenceAndAsJSON() async throws {
        let home = TemporaryDirectory.make(prefix: "cli").path
        let server = try await LiveServer.start()
        let url = server.baseURL
        do {
            let initialize = try await CLIRunner.run(
                "reflect", ["--home", home, "init", "--server", url, "--pin", server.fingerprint])
            #expect(initialize.status == 0, "\(initialize.stderr)")
            let register = try await CLIRunner.run(
                "reflect", ["--home", home, "register", "--user", "amara", "--password-stdin"],
                stdin: "a long enough password\n")
            #expect(register.status == 0, "\(register.stderr)")
            try await server.stop()
        } catch {
            try? await server.stop()
            throw error
        }
        // The server is gone: the device is offline.
        let json = try await CLIRunner.run("reflect", ["--home", home, "--json", "sync"])
        #expect(json.status == 5)
        #expect(json.stderr.contains("is not reachable"), "\(json.stderr)")
        #expect(json.stderr.contains("your writing is safe here"))
        let body = try JSONDecoder().decode(ErrorBody.self, from: Data(json.stdout.utf8))
        #expect(body.error.code == "unreachable")
        #expect(body.error.message.contains(url))
        // One plain sentence: the technical cause goes to the sync log, where the failed run is listed.
        #expect(!json.stderr.contains("errno"))
        let log = try await CLIRunner.run("reflect", ["--home", home, "log"])
        #expect(log.stdout.contains("failed: pushed 0, pulled 0"), "\(log.stdout)")
        #expect(log.stdout.contains("is not reachable"))
    }

    @Test func commentsAreChangedWithCommentEditAndListChecksThePrompt() async throws {
        try await LiveServer.with { server in
            let cli = try await CLIHome.initialized(for: server)
            let write = try await cli.run(
                ["write", "--title", "Shared", "--visibility", "community"], stdin: "Words.\n")
            let reflection = write.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let comment = try await cli.run(["comment", reflection], stdin: "First thought.")
            let commentID = comment.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(UUID(uuidString: commentID) != nil, "\(comment.stderr)")
            // 'edit' of a comment says how comments are changed, instead of "no such record".
            let wrong = try await cli.run(["edit", String(commentID.prefix(8)), "--file", "-"], stdin: "x")
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("reflect comment --edit \(commentID.prefix(8))"))
            let changed = try await cli.run(
                ["comment", "--edit", String(commentID.prefix(8))], stdin: "Second thought.")
            #expect(changed.status == 0, "\(changed.stderr)")
            let show = try await cli.run(["show", String(commentID.prefix(8))])
            #expect(show.stdout.contains("Second thought."))
            // 'list --prompt' checks the prompt, and says when none answers it yet.
            #expect(try await cli.run(["list", "--prompt", "9"]).status == 64)
            let none = try await cli.run(["list", "--prompt", "3"])
            #expect(none.stdout.contains("No reflections on prompt 3 yet"))
        }
    }

    /// Edited on the laptop after the phone deleted it: the edit brought it back, and on the laptop `--mine`
    /// keeps that edit (it used to take the delete), in plain words in `conflicts`.
    @Test func resolveMineAfterAnEditVersusDeleteKeepsThisDevicesEdit() async throws {
        try await LiveServer.with { server in
            let laptop = TemporaryDirectory.make(prefix: "laptop").path
            let phone = TemporaryDirectory.make(prefix: "phone").path
            func run(_ home: String, _ arguments: [String], stdin: String = "") async throws -> CLIRunner.Output {
                try await CLIHome(path: home).run(arguments, stdin: stdin)
            }
            for home in [laptop, phone] {
                #expect(
                    try await run(home, ["init", "--server", server.baseURL, "--pin", server.fingerprint]).status == 0)
            }
            #expect(
                try await run(
                    laptop, ["register", "--user", "amara", "--password-stdin"], stdin: "a long enough password\n"
                )
                .status == 0)
            #expect(
                try await run(
                    phone, ["login", "--user", "amara", "--password-stdin"], stdin: "a long enough password\n"
                )
                .status == 0)
            let id = try await run(laptop, ["write", "--title", "Ward"], stdin: "First words.\n").stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try await run(laptop, ["sync"])
            _ = try await run(phone, ["sync"])
            #expect(try await run(phone, ["delete", id]).status == 0)
            _ = try await run(phone, ["sync"])
            #expect(try await run(laptop, ["edit", id, "--file", "-"], stdin: "First words, kept.\n").status == 0)
            let conflicted = try await run(laptop, ["sync"])
            #expect(conflicted.status == 7, "\(conflicted.stdout) \(conflicted.stderr)")
            let list = try await run(laptop, ["conflicts"])
            #expect(list.stdout.contains("edited on this device after it was deleted elsewhere"), "\(list.stdout)")
            #expect(try await run(laptop, ["resolve", id, "--mine"]).status == 0)
            #expect(try await run(laptop, ["sync"]).status == 0)
            _ = try await run(phone, ["sync"])
            let shown = try await run(phone, ["show", id])
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains("First words, kept."))
            #expect(!shown.stdout.contains("DELETED"))
        }
    }

    @Test func logoutForgetLocalRemovesWritingOnlyOnceItIsOnTheServer() async throws {
        let home = TemporaryDirectory.make(prefix: "shared-computer")
        let server = try await LiveServer.start()
        do {
            func run(_ arguments: [String], stdin: String = "") async throws -> CLIRunner.Output {
                try await CLIRunner.run("reflect", ["--home", home.path] + arguments, stdin: stdin)
            }
            _ = try await run(["init", "--server", server.baseURL, "--pin", server.fingerprint])
            _ = try await run(["register", "--user", "amara", "--password-stdin"], stdin: "a long enough password\n")
            _ = try await run(["write", "--title", "On the ward"], stdin: "Private words.\n")
            let out = try await run(["logout", "--forget-local"])
            #expect(out.status == 0, "\(out.stderr)")
            #expect(out.stdout.contains("removed from this computer"))
            let store = try ClientStore.open(home: home)
            #expect(try store.reflections().isEmpty)
            #expect(try store.settings().member == nil)
            try store.close()
            let database = try String(
                decoding: Data(contentsOf: home.appendingPathComponent("reflect.sqlite")), as: UTF8.self)
            #expect(!database.contains("Private words."))
            // Another member can use the computer now; their unsent writing is never removed.
            _ = try await run(["register", "--user", "bo.k", "--password-stdin"], stdin: "another long password\n")
            _ = try await run(["write", "--title", "Bo's"], stdin: "Not yet sent.\n")
            try await server.stop()
            let offline = try await run(["logout", "--forget-local"])
            #expect(offline.status == 5)
            let after = try ClientStore.open(home: home)
            #expect(try after.reflections().count == 1)
            try after.close()
        } catch {
            try? await server.stop()
            throw error
        }
    }

    @Test func textThatCannotBeSavedIsKeptAsADraft() async throws {
        let home = TemporaryDirectory.make(prefix: "cli")
        let initialize = try await CLIRunner.run(
            "reflect", ["--home", home.path, "init", "--server", "https://127.0.0.1:1", "--ca", "/dev/null"])
        #expect(initialize.status == 0, "\(initialize.stderr)")
        // A control character in the text: refused after the text was read, so it is kept.
        let story = "A long story typed on the ward.\u{0007}\nSecond line.\n"
        let output = try await CLIRunner.run(
            "reflect", ["--home", home.path, "write", "--title", "Ward"], stdin: story)
        #expect(output.status == 1)
        let drafts = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("drafts").path)
        #expect(drafts.count == 1)
        let path = home.appendingPathComponent("drafts").appendingPathComponent(drafts.first ?? "").path
        #expect(output.stderr.contains(path))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == story)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func aWrongPinExitsWithCode5() async throws {
        try await LiveServer.with { server in
            let home = TemporaryDirectory.make(prefix: "cli").path
            let output = try await CLIRunner.run(
                "reflect",
                [
                    "--home", home, "init", "--server", server.baseURL, "--pin",
                    "sha256:" + String(repeating: "0", count: 64),
                ])
            #expect(output.status == 5)
            #expect(output.stderr.contains("not the pinned one"))
        }
    }

    struct SyncSummaryShape: Decodable {
        var pushed: Int
        var pulled: Int
        var openConflicts: Int
    }
}
