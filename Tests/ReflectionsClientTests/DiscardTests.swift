import Foundation
import ReflectionsTestSupport
import Testing

/// `reflect discard`: a rejected change is dropped only on purpose, after it was shown, and its text stays in the log.
@Suite struct DiscardTests {
    @Test func aRejectedChangeIsDroppedOnlyOnPurposeAndItsTextStaysInTheLog() async throws {
        try await LiveServer.with { server in
            let amara = try await CLIHome.initialized(for: server)
            let bo = try await CLIHome.initialized(for: server)
            for (home, handle) in [(amara, "amara"), (bo, "bo.k")] {
                let registered = try await home.run(
                    ["register", "--user", handle, "--password-stdin"], stdin: "a long enough password\n")
                #expect(registered.status == 0, "\(registered.stderr)")
            }
            let written = try await amara.run(
                ["write", "--title", "Shared", "--visibility", "community", "--file", "-"], stdin: "For all.\n")
            let id = written.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try await amara.run(["sync"]).status == 0)
            #expect(try await bo.run(["sync"]).status == 0)
            // Bo comments offline; meanwhile Amara makes her reflection private: the comment is refused.
            let comment = try await bo.run(["comment", id, "--file", "-"], stdin: "Words Bo typed on the train.\n")
            #expect(comment.status == 0, "\(comment.stderr)")
            #expect(try await amara.run(["edit", id, "--visibility", "private"]).status == 0)
            #expect(try await amara.run(["sync"]).status == 0)
            #expect(try await bo.run(["sync"]).status == 8)
            let commentID = String(comment.stdout.trimmingCharacters(in: .whitespacesAndNewlines).prefix(8))

            // Not at a terminal and no --yes: shown, nothing dropped.
            let asked = try await bo.run(["discard", commentID])
            #expect(asked.status == 1)
            #expect(asked.stdout.contains("will drop: create comment"))
            #expect(asked.stdout.contains("Words Bo typed on the train."))
            #expect(asked.stderr.contains("--yes"))
            #expect(try await bo.run(["status"]).stdout.contains("Words Bo typed on the train."))
            #expect(try await bo.run(["discard"]).status == 64)
            #expect(try await bo.run(["discard", "zzzz", "--yes"]).status == 4)

            let dropped = try await bo.run(["discard", commentID, "--yes"])
            #expect(dropped.status == 0, "\(dropped.stderr)")
            #expect(dropped.stdout.contains("Dropped 1 change(s)"))
            #expect(!(try await bo.run(["status"]).stdout.contains("Words Bo typed on the train.")))
            let log = try await bo.run(["log", "--limit", "50"])
            #expect(log.stdout.contains("discarded"))
            #expect(log.stdout.contains("Words Bo typed on the train."))
            #expect(try await bo.run(["sync"]).status == 0)
            let none = try await bo.run(["--json", "discard", "--all-rejected", "--yes"])
            #expect(none.stdout.contains("\"discarded\" : 0"))
        }
    }
}
