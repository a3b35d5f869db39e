import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// Authors' display names and device names: they travel only inside what ``Access`` already lets a viewer have,
/// a rename reaches every device that may see the member's records, and the new endpoint is as strict as the rest.
@Suite struct NamesTests {
    /// Amara (display name "Amara O.") writes a private and a community reflection; Ben comments on the second.
    func scene(_ client: TestHTTPClient) async throws -> (
        amara: SessionResponse, ben: SessionResponse, privateID: UUID, sharedID: UUID
    ) {
        let registered = try await client.send(
            .POST, "/v1/accounts",
            json: RegisterRequest(handle: "amara", displayName: "Amara O.", password: "a long enough password"))
        #expect(registered.status == 201)
        let login = try await client.send(
            .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: "a long enough password"))
        let amara = try login.decode(SessionResponse.self)
        let ben = try await client.member("ben")
        var device = MutationFactory()
        let privateID = UUID()
        let sharedID = UUID()
        _ = try await client.push(
            [
                device.createReflection(id: privateID, title: "Private", body: "Mine alone.\n"),
                device.createReflection(id: sharedID, title: "Shared", body: "For everyone.\n", visibility: .community),
            ], client: device.clientID, token: amara.token)
        var benDevice = MutationFactory()
        let results = try await client.push(
            [benDevice.createComment(on: sharedID, body: "Thank you.")], client: benDevice.clientID, token: ben.token)
        #expect(results.first?.outcome == .applied)
        return (amara, ben, privateID, sharedID)
    }

    @Test func namesTravelOnlyWithRecordsTheViewerMayHave() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let (amara, ben, privateID, sharedID) = try await scene(client)
                let (benChanges, _) = try await client.pullAll(token: ben.token)
                #expect(!benChanges.contains { $0.id == privateID })
                #expect(benChanges.first { $0.id == sharedID }?.reflection?.authorName == "Amara O.")
                #expect(benChanges.compactMap(\.comment).first?.authorName == "ben")
                let (amaraChanges, _) = try await client.pullAll(token: amara.token)
                #expect(amaraChanges.first { $0.id == privateID }?.reflection?.authorName == "Amara O.")
                #expect(amaraChanges.compactMap(\.comment).first?.authorName == "ben")
            }
        }
    }

    @Test func aRenameReachesEveryoneWhoMaySeeTheRecordsAndTellsNoOneElseAnything() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let (amara, ben, privateID, sharedID) = try await scene(client)
                let carol = try await client.member("carol")
                let (_, benCursor) = try await client.pullAll(token: ben.token)
                let (_, amaraCursor) = try await client.pullAll(token: amara.token)
                let (_, carolCursor) = try await client.pullAll(token: carol.token)
                let answer = try await client.send(
                    .PATCH, "/v1/me", json: AccountUpdate(displayName: "Amara Okafor"), token: amara.token)
                #expect(answer.status == 200)
                #expect(try answer.decode(Member.self).displayName == "Amara Okafor")
                // Ben may see the shared reflection: it comes again, with the new name; the private one never.
                let (benChanges, _) = try await client.pullAll(token: ben.token, since: benCursor)
                #expect(benChanges.map(\.id) == [sharedID])
                #expect(benChanges.first?.reflection?.authorName == "Amara Okafor")
                #expect(benChanges.first?.reflection?.body == "For everyone.\n")
                // Only what others can see moves: the private reflection keeps its place in the log, so the head
                // moved by exactly one (no gap betrays that other records exist), and Amara's other devices get
                // the shared one with the new name (her own records show as "you" there anyway).
                let (amaraChanges, amaraAfter) = try await client.pullAll(token: amara.token, since: amaraCursor)
                #expect(amaraChanges.map(\.id) == [sharedID])
                #expect(amaraChanges.first?.reflection?.authorName == "Amara Okafor")
                #expect(amaraAfter == amaraCursor + 1)
                #expect(!amaraChanges.contains { $0.id == privateID })
                // Carol may see the shared reflection too, and nothing else of Amara's.
                let (carolChanges, _) = try await client.pullAll(token: carol.token, since: carolCursor)
                #expect(carolChanges.map(\.id) == [sharedID])
                // The same name again changes nothing and sends nothing.
                let (_, benNow) = try await client.pullAll(token: ben.token)
                let again = try await client.send(
                    .PATCH, "/v1/me", json: AccountUpdate(displayName: "Amara Okafor"), token: amara.token)
                #expect(again.status == 200)
                #expect(try await client.pullAll(token: ben.token, since: benNow).changes.isEmpty)
                // Another name within the hour is refused, with the wait, and changes nothing; an hour later the
                // store allows it.
                let soon = try await client.send(
                    .PATCH, "/v1/me", json: AccountUpdate(displayName: "A. Okafor"), token: amara.token)
                #expect(soon.status == 429)
                #expect(try soon.decode(ErrorBody.self).error.code == "rename_too_soon")
                #expect((Int(soon.headers.first(name: "Retry-After") ?? "") ?? 0) > 3_000)
                #expect(try await client.pullAll(token: ben.token, since: benNow).changes.isEmpty)
                let me = try await client.send(.GET, "/v1/me", token: amara.token).decode(Member.self)
                let anHourLater = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_001
                let later = try await server.store.setDisplayName(
                    memberID: me.id, displayName: "A. Okafor", now: anHourLater)
                #expect(later.displayName == "A. Okafor")
            }
        }
    }

    @Test func accountUpdatesAreCheckedLikeEveryOtherBody() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let amara = try await client.member("amara")
                let ben = try await client.member("ben")
                let cases: [(String, Data, String?, Int, String)] = [
                    ("no token", Data(#"{"displayName":"X"}"#.utf8), nil, 401, "unauthorized"),
                    ("bad token", Data(#"{"displayName":"X"}"#.utf8), "not-a-token", 401, "unauthorized"),
                    (
                        "unknown field", Data(#"{"displayName":"X","handle":"ben"}"#.utf8), amara.token, 400,
                        "unknown_field"
                    ),
                    ("role", Data(#"{"role":"moderator"}"#.utf8), amara.token, 400, "unknown_field"),
                    (
                        "control character", Data(#"{"displayName":"A\u0007B"}"#.utf8), amara.token, 400,
                        "validation.control_character"
                    ),
                    (
                        "too long", Data("{\"displayName\":\"\(String(repeating: "a", count: 101))\"}".utf8),
                        amara.token, 400, "validation.invalid_display_name"
                    ),
                    (
                        "blank", Data(#"{"displayName":"   "}"#.utf8), amara.token, 400,
                        "validation.invalid_display_name"
                    ),
                    ("tab", Data(#"{"displayName":"A\tB"}"#.utf8), amara.token, 400, "validation.invalid_display_name"),
                    (
                        "right-to-left override", Data(#"{"displayName":"ben\u202Exyz"}"#.utf8), amara.token, 400,
                        "validation.invalid_display_name"
                    ),
                    (
                        "zero-width space", Data(#"{"displayName":"be\u200Bn"}"#.utf8), amara.token, 400,
                        "validation.invalid_display_name"
                    ),
                    (
                        "reserved", Data(#"{"displayName":" You "}"#.utf8), amara.token, 400,
                        "validation.invalid_display_name"
                    ),
                    (
                        "huge", Data("{\"displayName\":\"\(String(repeating: "a", count: 200_000))\"}".utf8),
                        amara.token, 413, "too_large"
                    ),
                ]
                for (name, body, token, status, code) in cases {
                    let answer = try await client.send(.PATCH, "/v1/me", body: body, token: token)
                    #expect(answer.status == status, "\(name)")
                    #expect(try answer.decode(ErrorBody.self).error.code == code, "\(name)")
                }
                // Nothing changed, for either member.
                let me = try await client.send(.GET, "/v1/me", token: amara.token)
                #expect(try me.decode(Member.self).displayName == "amara")
                let other = try await client.send(.GET, "/v1/me", token: ben.token)
                #expect(try other.decode(Member.self).displayName == "ben")
            }
        }
    }

    @Test func deviceNamesComeBackInTheirMembersConflictsOnly() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let amara = try await client.member("amara")
                let ben = try await client.member("ben")
                var laptop = MutationFactory()
                var phone = MutationFactory()
                let id = UUID()
                let clientHTTP = client
                func push(_ device: UUID, _ mutations: [Mutation], name: String?) async throws -> Int {
                    try await clientHTTP.send(
                        .POST, "/v1/sync/push",
                        json: PushRequest(clientID: device, mutations: mutations, deviceName: name),
                        token: amara.token
                    ).status
                }
                let create = laptop.createReflection(id: id, body: "One sentence.\n", visibility: .community)
                #expect(try await push(laptop.clientID, [create], name: "laptop") == 200)
                let first = laptop.update(
                    .reflection, id, base: 1, changes: FieldChanges(body: "The laptop's sentence.\n"))
                #expect(try await push(laptop.clientID, [first], name: "laptop") == 200)
                let second = phone.update(
                    .reflection, id, base: 1, changes: FieldChanges(body: "The phone's sentence.\n"))
                #expect(try await push(phone.clientID, [second], name: "  ward phone ") == 200)
                let (changes, _) = try await client.pullAll(token: amara.token)
                let revisions = changes.first { $0.id == id }?.revisions ?? []
                #expect(revisions.map(\.deviceName) == ["ward phone"])
                let (benChanges, _) = try await client.pullAll(token: ben.token)
                #expect(benChanges.first { $0.id == id }?.revisions == nil)
                // A bad device name refuses the whole push, before anything is applied.
                let another = laptop.createReflection()
                let bad = try await client.send(
                    .POST, "/v1/sync/push",
                    json: PushRequest(
                        clientID: laptop.clientID, mutations: [another], deviceName: String(repeating: "x", count: 41)),
                    token: amara.token)
                #expect(bad.status == 400)
                #expect(try bad.decode(ErrorBody.self).error.code == "validation.invalid_device_name")
                #expect(try await client.pullAll(token: amara.token).changes.count == 1)
            }
        }
    }
}
