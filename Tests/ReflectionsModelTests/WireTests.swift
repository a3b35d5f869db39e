import Foundation
import ReflectionsModel
import Testing

@Suite struct WireTests {
    @Test func aPushRoundTripsThroughJSONWithIntegerVersionsAndTimes() throws {
        let client = UUID()
        let mutation = Mutation(
            clientID: client, target: .init(entity: .reflection, id: UUID()), operation: .update, baseVersion: 7,
            changes: FieldChanges(body: "New text"),
            hlc: HLCTimestamp(physical: 1_750_000_000_123, counter: 2, node: "dev"))
        let request = PushRequest(clientID: client, mutations: [mutation])
        let data = try JSONEncoder().encode(request)
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["protocolVersion"] as? Int == SyncProtocol.version)
        let first = try #require((object["mutations"] as? [[String: Any]])?.first)
        #expect(first["baseVersion"] as? Int == 7)
        // Only the changed field is on the wire.
        #expect((first["changes"] as? [String: Any])?.keys.sorted() == ["body"])
        #expect(try JSONDecoder().decode(PushRequest.self, from: data) == request)
    }

    @Test func theErrorBodyHasTheDocumentedShape() throws {
        let data = try JSONEncoder().encode(ErrorBody(code: "unauthorized", message: "Log in first."))
        let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: [String: String]])
        #expect(object == ["error": ["code": "unauthorized", "message": "Log in first."]])
    }

    @Test func aDuplicateResultCarriesTheOriginalOutcome() {
        let result = MutationResult(mutationID: UUID(), outcome: .duplicate, originalOutcome: .merged, version: 3)
        #expect(result.effectiveOutcome == .merged)
        #expect(MutationResult(mutationID: UUID(), outcome: .conflict).effectiveOutcome == .conflict)
    }

    @Test func aPullResponseRoundTrips() throws {
        let reflection = Reflection(
            id: UUID(), authorID: UUID(), promptID: 1, title: "t", body: "b", visibility: .community, createdAt: 5,
            version: 2)
        let response = PullResponse(
            changes: [
                Change(sequence: 9, entity: .reflection, id: reflection.id, kind: .upsert, reflection: reflection)
            ],
            nextCursor: 9, hasMore: false)
        let decoded = try JSONDecoder().decode(PullResponse.self, from: JSONEncoder().encode(response))
        #expect(decoded == response)
        #expect(PullRequest(since: 9, limit: 50).query == "since=9&limit=50")
    }
}
