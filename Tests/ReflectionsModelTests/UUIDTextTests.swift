import Foundation
import ReflectionsModel
import Testing

/// `UUIDText` must read and write exactly what Foundation does (it replaces `UUID(uuidString:)` and `uuidString`
/// on the hot paths of push and pull).
@Suite struct UUIDTextTests {
    @Test func randomUUIDsReadAndWriteAsFoundationDoes() {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<5_000 {
            let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
            let uuid = UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                    bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
            #expect(UUIDText.string(uuid) == uuid.uuidString)
            var appended: [UInt8] = [0x7B]
            UUIDText.append(uuid, to: &appended)
            #expect(appended == [0x7B] + Array(uuid.uuidString.utf8))
            for spelling in [uuid.uuidString, uuid.uuidString.lowercased(), mixedCase(uuid.uuidString, &random)] {
                #expect(UUIDText.parse(spelling) == uuid)
                #expect(UUIDText.parse(spelling) == UUID(uuidString: spelling))
            }
        }
        let edges =
            [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))]
            + [UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))]
        for uuid in edges {
            #expect(UUIDText.string(uuid) == uuid.uuidString)
            #expect(UUIDText.parse(uuid.uuidString) == uuid)
        }
    }

    /// Malformed text is refused; whatever parses is what Foundation reads from it.
    @Test func onlyTheCanonicalSpellingParses() {
        var random = SeededGenerator(seed: 12)
        let replacements: [Character] = [
            "g", "G", "z", "-", " ", "+", "x", "0", "f", "F", "\u{E9}", "\u{1F469}", "\n", "{", "_", ":",
        ]
        var refused = 0
        for _ in 0..<20_000 {
            var characters = Array(UUID().uuidString)
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                characters[Int.random(in: 0..<characters.count, using: &random)] = replacements.randomElement(
                    using: &random)!
            case 1: characters.remove(at: Int.random(in: 0..<characters.count, using: &random))
            case 2:
                characters.insert(
                    replacements.randomElement(using: &random)!,
                    at: Int.random(in: 0...characters.count, using: &random))
            default:
                let a = Int.random(in: 0..<characters.count, using: &random)
                let b = Int.random(in: 0..<characters.count, using: &random)
                characters.swapAt(a, b)
            }
            let text = String(characters)
            // Only the canonical spelling parses, to what Foundation reads; Foundation's C parser (`sscanf`)
            // also takes a sign or white space inside a group, which is refused here.
            let canonical = text.wholeMatch(of: Self.canonical) != nil
            #expect(UUIDText.parse(text) == (canonical ? UUID(uuidString: text) : nil), "\(text.debugDescription)")
            if canonical { #expect(UUID(uuidString: text) != nil, "\(text.debugDescription)") }
            if !canonical { refused += 1 }
        }
        // The mutations did make malformed text, most of the time (a digit for a digit stays valid).
        #expect(refused > 10_000)
        for text in [
            "", "-", String(repeating: "0", count: 36), "{00000000-0000-0000-0000-000000000000}",
            "00000000-0000-0000-0000-00000000000", "00000000-0000-0000-0000-0000000000000",
            "00000000000000000000000000000000", " 0000000-0000-0000-0000-000000000000",
            "+0000000-0000-0000-0000-000000000000", "0000000-00000-0000-0000-000000000000",
        ] {
            #expect(UUIDText.parse(text) == nil, "\(text)")
        }
    }

    /// The one spelling the sync writes and reads, in either case.
    nonisolated(unsafe) static let canonical =
        /[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}/

    func mixedCase(_ text: String, _ random: inout SeededGenerator) -> String {
        String(text.map { Bool.random(using: &random) ? Character($0.lowercased()) : $0 })
    }
}
