import Foundation
import ReflectionsModel
import Testing

/// The merge laws of ``RecordMerge`` and ``TextMerge``, checked on seeded random cases.
///
/// `REFLECT_MERGE_CASES=N` runs N cases (default 1,000); `REFLECT_MERGE_SEED=S` replays the one case S that a
/// failure printed.
@Suite struct MergeLawTests {
    static let seeds: [UInt64] = {
        let env = ProcessInfo.processInfo.environment
        if let one = env["REFLECT_MERGE_SEED"].flatMap(UInt64.init) { return [one] }
        let count = env["REFLECT_MERGE_CASES"].flatMap(UInt64.init) ?? 1000
        return Array(1...count)
    }()

    static let vocabulary = [
        "listening", "allyship", "the", "ward", "race", "patients", "colleagues", "change", "we", "must",
        "often", "quiet", "equity", "naïve", "care", "voices", "team", "practice", "évidence", "trust",
    ]

    /// A random case: a base text and two sides, each edited with uniquely marked insertions.
    struct Case {
        var base: RecordFields
        var a: RecordFields
        var b: RecordFields
        var markersA: [String]
        var markersB: [String]
        var stampA: HLCTimestamp
        var stampB: HLCTimestamp
    }

    static func randomText(_ rng: inout SeededGenerator) -> String {
        let paragraphs = (0..<Int.random(in: 1...5, using: &rng)).map { _ in
            let sentences = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
                (0..<Int.random(in: 3...9, using: &rng)).map { _ in vocabulary.randomElement(using: &rng)! }
                    .joined(separator: " ") + "."
            }
            return sentences.joined(separator: " ")
        }
        return paragraphs.joined(separator: "\n\n") + "\n"
    }

    /// Edits `text` with 1–4 random operations; every inserted word is a marker unique to this side.
    static func edit(_ text: String, side: String, _ rng: inout SeededGenerator) -> (String, [String]) {
        var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var markers: [String] = []
        for op in 0..<Int.random(in: 1...4, using: &rng) {
            let marker = "«\(side)\(op)»"
            switch Int.random(in: 0..<5, using: &rng) {
            case 0, 1:  // insert a word
                words.insert(marker, at: Int.random(in: 0...words.count, using: &rng))
                markers.append(marker)
            case 2:  // replace a word
                let i = Int.random(in: 0..<words.count, using: &rng)
                if words[i].contains("«") { continue }
                words[i] = marker + (words[i].hasSuffix("\n") ? "\n" : "")
                markers.append(marker)
            case 3:  // delete a word that is not a marker
                let i = Int.random(in: 0..<words.count, using: &rng)
                if words.count > 1 && !words[i].contains("«") && !words[i].contains("\n") { words.remove(at: i) }
            default:  // a new paragraph at a paragraph break
                let breaks = words.indices.filter { words[$0].contains("\n\n") }
                if let i = breaks.randomElement(using: &rng) {
                    words[i] = words[i].replacingOccurrences(of: "\n\n", with: "\n\n\(marker) paragraph.\n\n")
                } else {
                    words.append("\n\(marker) paragraph.\n")
                }
                markers.append(marker)
            }
        }
        return (words.joined(separator: " "), markers)
    }

    static func makeCase(seed: UInt64) -> Case {
        var rng = SeededGenerator(seed: seed)
        let base = RecordFields(
            title: "Reflection \(Int.random(in: 1...99, using: &rng))", body: randomText(&rng),
            visibility: Bool.random(using: &rng) ? .community : .private, promptID: Int.random(in: 1...6, using: &rng))
        var a = base
        var b = base
        var markersA: [String] = []
        var markersB: [String] = []
        if Int.random(in: 0..<10, using: &rng) < 8 {
            let (text, markers) = edit(base.body, side: "A", &rng)
            a.body = text
            markersA += markers
        }
        if Int.random(in: 0..<10, using: &rng) < 8 {
            let (text, markers) = edit(base.body, side: "B", &rng)
            b.body = text
            markersB += markers
        }
        if Int.random(in: 0..<4, using: &rng) == 0 {
            a.title = "«At» " + base.title!
            markersA.append("«At»")
        }
        if Int.random(in: 0..<4, using: &rng) == 0 {
            b.title = base.title! + " «Bt»"
            markersB.append("«Bt»")
        }
        if Int.random(in: 0..<4, using: &rng) == 0 { a.visibility = Bool.random(using: &rng) ? .community : .private }
        if Int.random(in: 0..<4, using: &rng) == 0 { b.visibility = Bool.random(using: &rng) ? .community : .private }
        if Int.random(in: 0..<5, using: &rng) == 0 { a.promptID = Int.random(in: 1...6, using: &rng) }
        if Int.random(in: 0..<5, using: &rng) == 0 { b.promptID = Int.random(in: 1...6, using: &rng) }
        if Int.random(in: 0..<12, using: &rng) == 0 {
            a = base
            a.deleted = true
            markersA = []
        }
        let stampA = HLCTimestamp(physical: Int64.random(in: 0...100, using: &rng), node: "a")
        let stampB = HLCTimestamp(physical: Int64.random(in: 0...100, using: &rng), node: "b")
        return Case(base: base, a: a, b: b, markersA: markersA, markersB: markersB, stampA: stampA, stampB: stampB)
    }

    static func merge(_ c: Case, aFirst: Bool) -> RecordMerge.Result {
        let a = RecordMerge.Side(c.a, stamp: c.stampA)
        let b = RecordMerge.Side(c.b, stamp: c.stampB)
        return RecordMerge.merge(entity: .reflection, base: c.base, current: aFirst ? a : b, incoming: aFirst ? b : a)
    }

    static func text(_ fields: RecordFields?) -> String {
        guard let fields else { return "" }
        return (fields.title ?? "") + "\n" + fields.body
    }

    @Test(arguments: seeds)
    func mergeIsDeterministic(seed: UInt64) {
        let c = Self.makeCase(seed: seed)
        #expect(Self.merge(c, aFirst: true) == Self.merge(c, aFirst: true), "replay with REFLECT_MERGE_SEED=\(seed)")
        #expect(Self.merge(c, aFirst: true) == Self.merge(Self.makeCase(seed: seed), aFirst: true))
    }

    @Test(arguments: seeds)
    func aCleanMergeIsTheSameWhicheverEditArrivesFirst(seed: UInt64) {
        let c = Self.makeCase(seed: seed)
        let ab = Self.merge(c, aFirst: true)
        let ba = Self.merge(c, aFirst: false)
        #expect((ab.outcome == .conflict) == (ba.outcome == .conflict), "replay with REFLECT_MERGE_SEED=\(seed)")
        if ab.outcome != .conflict && ba.outcome != .conflict {
            #expect(ab.fields == ba.fields, "replay with REFLECT_MERGE_SEED=\(seed)")
        }
        if let textAB = TextMerge.merge(base: c.base.body, ours: c.a.body, theirs: c.b.body) as TextMerge.Result?,
            case .clean(let x) = textAB,
            case .clean(let y) = TextMerge.merge(base: c.base.body, ours: c.b.body, theirs: c.a.body)
        {
            #expect(x == y, "replay with REFLECT_MERGE_SEED=\(seed)")
        }
    }

    @Test(arguments: seeds)
    func everyAddedCharacterIsInTheResultOrAKeptRevision(seed: UInt64) {
        let c = Self.makeCase(seed: seed)
        for aFirst in [true, false] {
            let result = Self.merge(c, aFirst: aFirst)
            let kept = Self.text(result.fields) + "\n" + Self.text(result.keptRevision)
            for marker in c.markersA + c.markersB {
                #expect(kept.contains(marker), "\(marker) lost; replay with REFLECT_MERGE_SEED=\(seed)")
            }
            if result.outcome == .conflict {
                #expect(result.keptRevision != nil, "a conflict kept no revision; REFLECT_MERGE_SEED=\(seed)")
            }
            // Visibility never widens past what either side chose.
            if c.a.visibility == .private && c.a.visibility != c.base.visibility
                || c.b.visibility == .private && c.b.visibility != c.base.visibility
            {
                #expect(result.fields.visibility == .private, "REFLECT_MERGE_SEED=\(seed)")
            }
        }
    }
}
