import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// Bad bodies and parameters get the documented error, no 5xx, and nothing is written.
@Suite struct HostileInputTests {
    func assertNothingWritten(_ client: TestHTTPClient, token: String) async throws {
        let (changes, cursor) = try await client.pullAll(token: token)
        #expect(changes.isEmpty)
        #expect(cursor == 0)
    }

    @Test func malformedBodiesAreRefusedWithTheirCode() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                let clientID = UUID().uuidString
                let cases: [(String, Data, String)] = [
                    ("malformed", Data("{\"protocolVersion\":1,".utf8), "malformed_json"),
                    ("invalid utf8", Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]), "invalid_utf8"),
                    (
                        "deep",
                        Data((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8),
                        "too_deep"
                    ),
                    (
                        "wrong type",
                        Data("{\"protocolVersion\":\"one\",\"clientID\":\"\(clientID)\",\"mutations\":[]}".utf8),
                        "invalid_body"
                    ),
                    (
                        "duplicate key",
                        Data(
                            "{\"protocolVersion\":1,\"clientID\":\"\(clientID)\",\"clientID\":\"\(clientID)\",\"mutations\":[]}"
                                .utf8), "duplicate_key"
                    ),
                    (
                        "unknown field",
                        Data(
                            "{\"protocolVersion\":1,\"clientID\":\"\(clientID)\",\"mutations\":[],\"author\":\"x\"}"
                                .utf8), "unknown_field"
                    ),
                    (
                        "not a uuid",
                        Data("{\"protocolVersion\":1,\"clientID\":\"../../etc/passwd\",\"mutations\":[]}".utf8),
                        "invalid_body"
                    ),
                    (
                        "old protocol",
                        Data("{\"protocolVersion\":0,\"clientID\":\"\(clientID)\",\"mutations\":[]}".utf8),
                        "unsupported_protocol"
                    ),
                ]
                for (name, body, code) in cases {
                    let answer = try await client.send(.POST, "/v1/sync/push", body: body, token: session.token)
                    #expect(answer.status == 400, "\(name)")
                    #expect(answer.errorCode == code, "\(name): \(String(decoding: answer.body, as: UTF8.self))")
                }
                try await assertNothingWritten(client, token: session.token)
            }
        }
    }

    @Test func aForgedAuthorIsRefused() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                let other = try await client.member("bo.k")
                var device = MutationFactory()
                var json =
                    try JSONSerialization.jsonObject(
                        with: JSONEncoder().encode(
                            PushRequest(clientID: device.clientID, mutations: [device.createReflection()])))
                    as! [String: Any]
                var mutations = json["mutations"] as! [[String: Any]]
                var changes = mutations[0]["changes"] as! [String: Any]
                changes["authorID"] = other.member.id.uuidString
                mutations[0]["changes"] = changes
                json["mutations"] = mutations
                let answer = try await client.send(
                    .POST, "/v1/sync/push", body: try JSONSerialization.data(withJSONObject: json), token: session.token
                )
                #expect(answer.status == 400)
                #expect(answer.errorCode == "unknown_field")
                try await assertNothingWritten(client, token: session.token)
            }
        }
    }

    @Test func sqlInjectionTextIsStoredAndReturnedVerbatim() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var device = MutationFactory()
                let nasty = "Robert'); DROP TABLE reflections;--\n\" OR 1=1 --\n"
                let results = try await client.push(
                    [device.createReflection(title: "x' OR '1'='1", body: nasty)], client: device.clientID,
                    token: session.token)
                #expect(results.first?.outcome == .applied)
                let (changes, _) = try await client.pullAll(token: session.token)
                #expect(changes.first?.reflection?.body == nasty)
                #expect(changes.first?.reflection?.title == "x' OR '1'='1")
            }
        }
    }

    @Test func oversizedBodiesAreRefusedWith413() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                let big = Data(repeating: UInt8(ascii: " "), count: Limits.pushMaxBytes + 1)
                let declared = try await client.send(.POST, "/v1/sync/push", body: big, token: session.token)
                #expect(declared.status == 413)
                #expect(declared.errorCode == "too_large")

                // Without Content-Length (chunked): refused once the limit is passed.
                var request = HTTPClientRequest(url: server.baseURL + "/v1/sync/push")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(session.token)")
                let chunk = ByteBuffer(repeating: UInt8(ascii: " "), count: 64 * 1024)
                let chunks = Array(repeating: chunk, count: Limits.pushMaxBytes / (64 * 1024) + 2)
                request.body = .stream(chunks.async, length: .unknown)
                do {
                    let response = try await client.http.execute(request, timeout: .seconds(30))
                    #expect(response.status.code == 413)
                } catch {
                    // The server may close the connection once it has answered 413; either way nothing was stored.
                }

                var device = MutationFactory()
                let tooMany = (0...Limits.pushMaxMutations).map { _ in device.createReflection() }
                let batch = try await client.send(
                    .POST, "/v1/sync/push", json: PushRequest(clientID: device.clientID, mutations: tooMany),
                    token: session.token)
                #expect(batch.status == 413)
                #expect(batch.errorCode == "batch_too_large")

                let account = try await client.send(
                    .POST, "/v1/accounts", body: Data(repeating: 0x20, count: Limits.otherRequestMaxBytes + 1))
                #expect(account.status == 413)
                try await assertNothingWritten(client, token: session.token)
            }
        }
    }

    @Test(arguments: [
        "since=-1", "since=abc", "limit=0", "limit=1001", "limit=99999999999999999999", "since=1&limit=-5",
    ])
    func badPullParametersAre400(query: String) async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                let answer = try await client.send(.GET, "/v1/sync/pull?\(query)", token: session.token)
                #expect(answer.status == 400)
                #expect(answer.errorCode == "invalid_parameter")
            }
        }
    }

    @Test func unknownRoutesAndMethodsAnswerJSON() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let missing = try await client.send(.GET, "/v1/../../etc/passwd")
                #expect(missing.status == 404)
                #expect(missing.errorCode == "not_found")
                let method = try await client.send(.PUT, "/v1/sync/push", body: Data("{}".utf8))
                #expect([404, 405].contains(method.status))
                #expect(method.errorCode != nil)
            }
        }
    }

    @Test func nulBytesAndControlCharactersAreRejectedPerMutation() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                var device = MutationFactory()
                let results = try await client.push(
                    [
                        device.createReflection(title: "nul\u{0}title"), device.createReflection(body: "bell\u{7}\n"),
                        device.createReflection(body: "fine\n"),
                    ], client: device.clientID, token: session.token)
                #expect(results.map(\.code) == ["validation.control_character", "validation.control_character", nil])
                let (changes, _) = try await client.pullAll(token: session.token)
                #expect(changes.count == 1)
            }
        }
    }

    /// A clock stamp naming its device with a NUL, a control, a space, nothing or too much: the whole push is
    /// refused (400) before anything is written, on either engine (PostgreSQL cannot store a NUL in text).
    @Test func aClockStampThatNoClientMakesIsRefusedBeforeAnythingIsWritten() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let session = try await client.member("amara")
                for node in ["ab\u{0}cd", "tab\there", "with space", "", String(repeating: "n", count: 65), "é"] {
                    var device = MutationFactory()
                    var bad = device.createReflection(body: "stamped\n")
                    bad.hlc.node = node
                    let answer = try await client.send(
                        .POST, "/v1/sync/push",
                        json: PushRequest(clientID: device.clientID, mutations: [device.createReflection(), bad]),
                        token: session.token)
                    #expect(answer.status == 400, "node \(node.debugDescription)")
                    #expect(answer.errorCode == "validation.invalid_clock")
                }
                let (changes, _) = try await client.pullAll(token: session.token)
                #expect(changes.isEmpty)
                var device = MutationFactory()
                var fine = device.createReflection()
                fine.hlc.node = String(repeating: "n", count: 64)
                #expect(
                    try await client.push([fine], client: device.clientID, token: session.token).map(\.code) == [nil])
            }
        }
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
