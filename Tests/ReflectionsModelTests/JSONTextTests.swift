import Foundation
import ReflectionsModel
import Testing

/// The hand-written JSON of the hot paths must read back, through `JSONDecoder`, as the very value written.
@Suite struct JSONTextTests {
    /// Text with every kind of character a member's writing or a hostile client could hold.
    static func text(_ random: inout SeededGenerator) -> String {
        let pieces = [
            "plain words", "\"quoted\"", "back\\slash", "new\nline", "tab\t", "cr\r", "\u{0}", "\u{1F}", "\u{7F}",
            "caf\u{E9}", "e\u{301}", "\u{1F469}\u{1F3FD}\u{200D}\u{2695}\u{FE0F}", "/slash/", "\u{2028}", "",
        ]
        return (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }
            .joined()
    }

    @Test func recordFieldsReadBackAsWritten() throws {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let fields = RecordFields(
                title: Bool.random(using: &random) ? Self.text(&random) : nil, body: Self.text(&random),
                visibility: [nil, .private, .community].randomElement(using: &random)!,
                promptID: Bool.random(using: &random) ? Int.random(in: -5...1_000, using: &random) : nil,
                deleted: Bool.random(using: &random), hidden: [nil, true, false].randomElement(using: &random)!)
            let decoded = try JSONDecoder().decode(RecordFields.self, from: Data(fields.jsonText.utf8))
            #expect(decoded == fields)
        }
    }

    @Test func mutationResultsReadBackAsWritten() throws {
        var random = SeededGenerator(seed: 8)
        for _ in 0..<2_000 {
            let result = MutationResult(
                mutationID: UUID(), outcome: MutationOutcome.allCases.randomElement(using: &random)!,
                originalOutcome: Bool.random(using: &random)
                    ? MutationOutcome.allCases.randomElement(using: &random) : nil,
                version: Bool.random(using: &random) ? Int64.random(in: 0...Int64.max, using: &random) : nil,
                sequence: Bool.random(using: &random) ? Int64.random(in: Int64.min...Int64.max, using: &random) : nil,
                code: Bool.random(using: &random) ? Self.text(&random) : nil,
                reason: Bool.random(using: &random) ? Self.text(&random) : nil)
            let decoded = try JSONDecoder().decode(MutationResult.self, from: Data(result.jsonText.utf8))
            #expect(decoded == result)
        }
    }

    @Test func pushAnswersReadBackAsWritten() throws {
        var random = SeededGenerator(seed: 10)
        for _ in 0..<300 {
            let results = (0..<Int.random(in: 0...5, using: &random)).map { _ in
                MutationResult(
                    mutationID: UUID(), outcome: MutationOutcome.allCases.randomElement(using: &random)!,
                    version: Bool.random(using: &random) ? Int64.random(in: 0...1_000, using: &random) : nil,
                    code: Bool.random(using: &random) ? Self.text(&random) : nil,
                    reason: Bool.random(using: &random) ? Self.text(&random) : nil)
            }
            let answer = PushResponse(results: results, epoch: Bool.random(using: &random) ? Self.text(&random) : nil)
            #expect(try JSONDecoder().decode(PushResponse.self, from: Data(answer.jsonUTF8)) == answer)
        }
    }

    /// Every kind of change, with and without each optional field, through the hand-written page writer and back.
    @Test func pullPagesReadBackAsWritten() throws {
        var random = SeededGenerator(seed: 9)
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { Bool.random(using: &random) ? value() : nil }
        func text() -> String { Self.text(&random) }
        func int64() -> Int64 { Int64.random(in: Int64.min...Int64.max, using: &random) }
        func fields() -> RecordFields {
            RecordFields(
                title: maybe(text()), body: text(), visibility: maybe(Visibility.community),
                promptID: maybe(Int.random(in: 1...6, using: &random)), deleted: Bool.random(using: &random),
                hidden: maybe(Bool.random(using: &random)))
        }
        for _ in 0..<300 {
            var changes: [Change] = []
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                let kind = [Change.Kind.upsert, .tombstone, .removal].randomElement(using: &random)!
                var change = Change(sequence: int64(), entity: .reflection, id: UUID(), kind: kind)
                switch Int.random(in: 0...2, using: &random) {
                case 0:
                    change.reflection = Reflection(
                        id: change.id, authorID: UUID(), promptID: maybe(Int.random(in: -3...9, using: &random)),
                        title: text(), body: text(), visibility: Bool.random(using: &random) ? .private : .community,
                        createdAt: int64(), updatedAt: int64(), deleted: Bool.random(using: &random),
                        version: int64(), conflicted: Bool.random(using: &random), writtenAt: maybe(int64()),
                        authorName: maybe(text()))
                case 1:
                    change.entity = .comment
                    change.comment = Comment(
                        id: change.id, reflectionID: UUID(), authorID: UUID(), body: text(), createdAt: int64(),
                        updatedAt: int64(), deleted: Bool.random(using: &random), hidden: Bool.random(using: &random),
                        version: int64(), conflicted: Bool.random(using: &random), writtenAt: maybe(int64()),
                        authorName: maybe(text()))
                default: break
                }
                if Bool.random(using: &random) {
                    change.revisions = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                        ConflictRevision(
                            id: UUID(), entity: change.entity, recordID: change.id,
                            kind: [.text, .deleteVersusEdit, .editVersusDelete].randomElement(using: &random)!,
                            fields: fields(), base: maybe(fields()), baseVersion: maybe(int64()), clientID: UUID(),
                            hlc: HLCTimestamp(
                                physical: int64(), counter: UInt32.random(in: 0...UInt32.max, using: &random),
                                node: text()),
                            createdAt: int64(), deviceName: maybe(text()))
                    }
                }
                changes.append(change)
            }
            let page = PullResponse(changes: changes, nextCursor: int64(), hasMore: Bool.random(using: &random))
            let decoded = try JSONDecoder().decode(PullResponse.self, from: Data(page.jsonUTF8))
            #expect(decoded == page)
        }
    }

    /// Every key path of a JSON value (`changes[].reflection.title`).
    static func paths(_ data: Data) throws -> Set<String> {
        func walk(_ value: Any, _ prefix: String, _ into: inout Set<String>) {
            if let object = value as? [String: Any] {
                for (key, child) in object {
                    let path = prefix.isEmpty ? key : "\(prefix).\(key)"
                    into.insert(path)
                    walk(child, path, &into)
                }
            } else if let array = value as? [Any] {
                for child in array { walk(child, prefix + "[]", &into) }
            }
        }
        var paths: Set<String> = []
        walk(try JSONSerialization.jsonObject(with: data), "", &paths)
        return paths
    }

    /// With every optional field set, the hand-written page has exactly the keys `JSONEncoder` writes: a field
    /// added to a wire type but not to its writer fails here (a round trip alone would not notice one left nil).
    @Test func pullPagesHaveEveryFieldTheEncoderWrites() throws {
        let fields = RecordFields(
            title: "t", body: "b", visibility: .community, promptID: 1, deleted: false, hidden: false)
        let revision = ConflictRevision(
            id: UUID(), entity: .reflection, recordID: UUID(), kind: .text, fields: fields, base: fields,
            baseVersion: 1, clientID: UUID(), hlc: HLCTimestamp(physical: 1, counter: 2, node: "n"), createdAt: 3,
            deviceName: "laptop")
        let reflection = Reflection(
            id: UUID(), authorID: UUID(), promptID: 1, title: "t", body: "b", visibility: .community, createdAt: 1,
            updatedAt: 2, deleted: false, version: 3, conflicted: true, writtenAt: 1, authorName: "A")
        let comment = Comment(
            id: UUID(), reflectionID: UUID(), authorID: UUID(), body: "b", createdAt: 1, updatedAt: 2, deleted: false,
            hidden: false, version: 3, conflicted: false, writtenAt: 1, authorName: "B")
        let page = PullResponse(
            changes: [
                Change(
                    sequence: 1, entity: .reflection, id: reflection.id, kind: .upsert, reflection: reflection,
                    comment: comment, revisions: [revision])
            ], nextCursor: 9, hasMore: true)
        let expected = try Self.paths(JSONEncoder().encode(page))
        #expect(try Self.paths(Data(page.jsonUTF8)) == expected)
        #expect(expected.contains("changes[].reflection.authorName"))
        #expect(try Self.paths(Data(fields.jsonText.utf8)) == Self.paths(JSONEncoder().encode(fields)))
        let result = MutationResult(
            mutationID: UUID(), outcome: .duplicate, originalOutcome: .applied, version: 1, sequence: 2, code: "c",
            reason: "r")
        #expect(try Self.paths(Data(result.jsonText.utf8)) == Self.paths(JSONEncoder().encode(result)))
    }

    @Test func escapesAreTheStandardOnes() {
        let fields = RecordFields(body: "a\"b\\c\nd\u{1}e")
        #expect(fields.jsonText == #"{"body":"a\"b\\c\nd\u0001e","deleted":false}"#)
    }
}
