import Foundation
import ReflectionsModel
import Testing

/// A push sent as the outbox's stored JSON must reach the server as the very request the typed path would send.
@Suite struct EncodedPushTests {
    @Test func theSplicedBodyReadsBackAsTheTypedRequest() throws {
        var random = SeededGenerator(seed: 21)
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { Bool.random(using: &random) ? value() : nil }
        func text() -> String { JSONTextTests.text(&random) }
        let clientID = UUID()
        for _ in 0..<300 {
            let mutations = (0..<Int.random(in: 0...8, using: &random)).map { _ in
                Mutation(
                    clientID: clientID,
                    target: .init(entity: Bool.random(using: &random) ? .reflection : .comment, id: UUID()),
                    operation: Mutation.Operation.allCases.randomElement(using: &random)!,
                    baseVersion: maybe(Int64.random(in: 0...1_000, using: &random)),
                    changes: FieldChanges(
                        title: maybe(text()), body: maybe(text()), visibility: maybe(.community),
                        promptID: maybe(Int.random(in: 1...6, using: &random)), reflectionID: maybe(UUID())),
                    hlc: HLCTimestamp(
                        physical: Int64.random(in: 0...Int64.max, using: &random),
                        counter: UInt32.random(in: 0...UInt32.max, using: &random), node: "device-1"))
            }
            // As the device stores them: each mutation's own JSONEncoder text.
            let stored = try mutations.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            let push = EncodedPush(
                clientID: clientID, mutations: stored, deviceName: maybe(text()), epoch: maybe(text()),
                cursor: maybe(Int64.random(in: 0...Int64.max, using: &random)))
            let expected = PushRequest(
                clientID: clientID, mutations: mutations, deviceName: push.deviceName, epoch: push.epoch,
                cursor: push.cursor)
            #expect(try JSONDecoder().decode(PushRequest.self, from: Data(push.jsonUTF8)) == expected)
            #expect(try push.request() == expected)
        }
    }
}
