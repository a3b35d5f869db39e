import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

@Suite struct SyncTests {
    @Test func aBatchResentAfterItsResponseWasLostAppliesOnce() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var device = MutationFactory()
                let id = UUID()
                let batch = [
                    device.createReflection(id: id, body: "First paragraph.\n"),
                    device.update(.reflection, id, base: 1, changes: FieldChanges(body: "First paragraph, edited.\n")),
                ]
                let first = try await client.push(batch, client: device.clientID, token: session.token)
                #expect(first.map(\.outcome) == [.applied, .applied])
                let again = try await client.push(batch, client: device.clientID, token: session.token)
                #expect(again.map(\.outcome) == [.duplicate, .duplicate])
                #expect(again.map(\.originalOutcome) == [.applied, .applied])
                #expect(again.map(\.version) == first.map(\.version))

                let (changes, _) = try await client.pullAll(token: session.token)
                #expect(changes.count == 1)
                #expect(changes.first?.reflection?.version == 2)
                #expect(changes.first?.reflection?.body == "First paragraph, edited.\n")
                let log = try await client.send(.GET, "/v1/log", token: session.token).decode(LogResponse.self)
                #expect(log.entries.map(\.operation) == ["create", "update"])
                #expect(log.entries.allSatisfy { $0.clientID == device.clientID })
            }
        }
    }

    @Test func editsToDifferentParagraphsFromTwoDevicesMerge() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var laptop = MutationFactory()
                var phone = MutationFactory()
                let id = UUID()
                let body = "Allyship starts with listening.\n\nOn the ward we rarely talk about race.\n"
                _ = try await client.push(
                    [laptop.createReflection(id: id, body: body)], client: laptop.clientID, token: session.token)
                let a = try await client.push(
                    [
                        laptop.update(
                            .reflection, id, base: 1,
                            changes: FieldChanges(
                                body: body.replacingOccurrences(of: "listening", with: "listening closely")))
                    ],
                    client: laptop.clientID, token: session.token)
                let b = try await client.push(
                    [
                        phone.update(
                            .reflection, id, base: 1,
                            changes: FieldChanges(body: body.replacingOccurrences(of: "rarely", with: "seldom")))
                    ],
                    client: phone.clientID, token: session.token)
                #expect(a.first?.outcome == .applied)
                #expect(b.first?.outcome == .merged)
                let (changes, _) = try await client.pullAll(token: session.token)
                #expect(
                    changes.first?.reflection?.body
                        == "Allyship starts with listening closely.\n\nOn the ward we seldom talk about race.\n")
                #expect(changes.first?.revisions == [])
            }
        }
    }

    @Test func overlappingEditsKeepAConflictRevisionUntilResolved() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var laptop = MutationFactory()
                var phone = MutationFactory()
                let id = UUID()
                _ = try await client.push(
                    [laptop.createReflection(id: id, body: "We rarely talk about race.\n")], client: laptop.clientID,
                    token: session.token)
                _ = try await client.push(
                    [
                        laptop.update(
                            .reflection, id, base: 1, changes: FieldChanges(body: "We never talk about race.\n"))
                    ],
                    client: laptop.clientID, token: session.token)
                let phoneEdit = phone.update(
                    .reflection, id, base: 1, changes: FieldChanges(body: "We seldom talk about race.\n"))
                let result = try await client.push([phoneEdit], client: phone.clientID, token: session.token)
                #expect(result.first?.outcome == .conflict)

                var (changes, _) = try await client.pullAll(token: session.token)
                let reflection = try #require(changes.first?.reflection)
                #expect(reflection.body == "We never talk about race.\n")
                #expect(reflection.conflicted)
                let revision = try #require(changes.first?.revisions?.first)
                #expect(revision.id == phoneEdit.id)
                #expect(revision.fields.body == "We seldom talk about race.\n")
                #expect(revision.base?.body == "We rarely talk about race.\n")

                // Resolved on the laptop by taking the phone's text; every device then sees it resolved.
                let resolve = laptop.resolve(
                    .reflection, id, base: reflection.version,
                    resolution: Resolution(
                        choice: .takeRevision, revisionIDs: [revision.id], takenRevisionID: revision.id))
                let resolved = try await client.push([resolve], client: laptop.clientID, token: session.token)
                #expect(resolved.first?.outcome == .applied)
                (changes, _) = try await client.pullAll(token: session.token)
                #expect(changes.first?.reflection?.body == "We seldom talk about race.\n")
                #expect(changes.first?.reflection?.conflicted == false)
                #expect(changes.first?.revisions == [])
            }
        }
    }

    @Test func aDevicesSecondEditOnTopOfItsFirstNeverConflictsWithIt() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var laptop = MutationFactory()
                let id = UUID()
                // Created and edited twice offline: each edit names version 1 as its base.
                let results = try await client.push(
                    [
                        laptop.createReflection(id: id, body: "One.\n"),
                        laptop.update(.reflection, id, base: 1, changes: FieldChanges(body: "One, two.\n")),
                        laptop.update(.reflection, id, base: 1, changes: FieldChanges(body: "One, two, three.\n")),
                    ], client: laptop.clientID, token: session.token)
                #expect(results.map(\.outcome) == [.applied, .applied, .applied])
            }
        }
    }

    @Test func anEditConcurrentWithADeleteSurvives() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var laptop = MutationFactory()
                var phone = MutationFactory()
                let id = UUID()
                _ = try await client.push(
                    [laptop.createReflection(id: id)], client: laptop.clientID, token: session.token)
                _ = try await client.push(
                    [laptop.delete(.reflection, id, base: 1)], client: laptop.clientID, token: session.token)
                let edit = try await client.push(
                    [phone.update(.reflection, id, base: 1, changes: FieldChanges(body: "Words I must keep.\n"))],
                    client: phone.clientID, token: session.token)
                #expect(edit.first?.outcome == .conflict)
                let (changes, _) = try await client.pullAll(token: session.token)
                #expect(changes.first?.kind == .upsert)
                #expect(changes.first?.reflection?.body == "Words I must keep.\n")
                #expect(changes.first?.reflection?.conflicted == true)
                #expect(changes.first?.revisions?.first?.kind == .editVersusDelete)
            }
        }
    }

    @Test func rejectedMutationsSayWhyAndWriteNothing() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var device = MutationFactory()
                let results = try await client.push(
                    [
                        device.createReflection(title: String(repeating: "t", count: 201)),
                        device.createReflection(body: "   "),
                        device.update(.reflection, UUID(), base: 1, changes: FieldChanges(body: "x")),
                        device.createComment(on: UUID()),
                        device.createReflection(prompt: 99),
                    ], client: device.clientID, token: session.token)
                #expect(results.map(\.outcome) == Array(repeating: .rejected, count: 5))
                #expect(
                    results.map(\.code) == [
                        "validation.title_too_long", "validation.body_empty", "not_found", "not_found",
                        "unknown_prompt",
                    ])
                #expect(results.allSatisfy { !($0.reason ?? "").isEmpty })
                let (changes, cursor) = try await client.pullAll(token: session.token)
                #expect(changes.isEmpty)
                #expect(cursor == 0)
            }
        }
    }

    @Test func aClientIDBelongsToTheMemberWhoFirstUsedIt() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let amara = try await client.member("amara")
                let bo = try await client.member("bo.k")
                var device = MutationFactory()
                _ = try await client.push([device.createReflection()], client: device.clientID, token: amara.token)
                let answer = try await client.send(
                    .POST, "/v1/sync/push",
                    json: PushRequest(clientID: device.clientID, mutations: [device.createReflection()]),
                    token: bo.token)
                #expect(answer.status == 403)
                #expect(answer.errorCode == "client_not_yours")
            }
        }
    }

    @Test func aNoOpPullIsSmallAndMovesTheCursorToTheHead() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let amara = try await client.member("amara")
                let bo = try await client.member("bo.k")
                var device = MutationFactory()
                for _ in 0..<5 {
                    _ = try await client.push([device.createReflection()], client: device.clientID, token: amara.token)
                }
                // Bo sees none of Amara's private reflections, but his cursor still moves past them.
                let page = try await client.send(.GET, "/v1/sync/pull?since=0", token: bo.token).decode(
                    PullResponse.self)
                #expect(page.changes.isEmpty)
                #expect(page.nextCursor == 5)
                let again = try await client.send(.GET, "/v1/sync/pull?since=5", token: bo.token)
                #expect(again.body.count < 120)
                #expect(try again.decode(PullResponse.self).nextCursor == 5)
            }
        }
    }

    @Test func pullPagesInSequenceOrder() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var device = MutationFactory()
                let batch = (0..<25).map { _ in device.createReflection() }
                _ = try await client.push(batch, client: device.clientID, token: session.token)
                var cursor: Int64 = 0
                var seen: [Int64] = []
                var pages = 0
                while true {
                    let page = try await client.send(
                        .GET, "/v1/sync/pull?since=\(cursor)&limit=10", token: session.token
                    )
                    .decode(PullResponse.self)
                    seen += page.changes.map(\.sequence)
                    cursor = page.nextCursor
                    pages += 1
                    if !page.hasMore { break }
                }
                #expect(pages == 3)
                #expect(seen == Array(1...25))
            }
        }
    }

    @Test func pullsAreGzippedWhenTheClientAcceptsIt() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var device = MutationFactory()
                // Varied text, as members write it (a sentence repeated would compress to nothing and prove little).
                var rng = SeededGenerator(seed: 5)
                let words = (0..<400).map { _ in
                    String(
                        (0..<Int.random(in: 2...9, using: &rng)).map { _ in
                            "abcdefghijklmnopqrstuvwxyz".randomElement(using: &rng)!
                        })
                }
                let texts = (0..<10).map { _ in
                    (0..<250).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ") + ".\n"
                }
                _ = try await client.push(
                    texts.map { device.createReflection(body: $0) }, client: device.clientID, token: session.token)
                let plain = try await client.send(.GET, "/v1/sync/pull?since=0", token: session.token)
                let gzipped = try await client.send(
                    .GET, "/v1/sync/pull?since=0", token: session.token, headers: [("Accept-Encoding", "gzip")])
                #expect(plain.headers.first(name: "Content-Encoding") == nil)
                #expect(gzipped.headers.first(name: "Content-Encoding") == "gzip")
                #expect(gzipped.body.count * 100 <= plain.body.count * 60)
                let changes = try plain.decode(PullResponse.self).changes
                #expect(changes.compactMap(\.reflection?.body).sorted() == texts.sorted())
            }
        }
    }
}
