/// Three-way merge of text: by line (a paragraph is a line), then by word inside the lines both sides changed.
///
/// ## Laws (tested with seeded random cases)
/// - **Deterministic**: the same three texts always give the same result.
/// - **Symmetric**: `merge(base, a, b)` and `merge(base, b, a)` are both clean with the same text, or both
///   conflicts; so a clean merge does not depend on which edit arrives first.
/// - **Nothing added is lost**: in a clean merge, every run of text that either side inserted is in the result.
///   Where the sides' changes overlap or touch, the merge is a conflict, never a guess.
/// - **Trivial cases**: if one side equals the base, the result is the other side; if both sides are equal,
///   the result is that text.
///
/// ```swift
/// let base = "One.\n\nTwo.\n"
/// TextMerge.merge(base: base, ours: "One!\n\nTwo.\n", theirs: "One.\n\nTwo!\n")   // .clean("One!\n\nTwo!\n")
/// TextMerge.merge(base: base, ours: "Uno.\n\nTwo.\n", theirs: "Un.\n\nTwo.\n")     // .conflict
/// ```
public enum TextMerge {
    /// The result of a three-way text merge.
    public enum Result: Hashable, Sendable {
        /// The changes of both sides combine into this text.
        case clean(String)
        /// The changes overlap: a person must choose.
        case conflict
    }

    /// Merges the changes that `ours` and `theirs` made to `base`.
    public static func merge(base: String, ours: String, theirs: String) -> Result {
        if ours == theirs || theirs == base { return .clean(ours) }
        if ours == base { return .clean(theirs) }
        let lineResult = merge3(base: lines(base), a: lines(ours), b: lines(theirs))
        var output = ""
        for piece in lineResult {
            switch piece {
            case .take(let tokens):
                output += tokens.joined()
            case .conflict(let base, let a, let b):
                let wordResult = merge3(
                    base: words(base.joined()), a: words(a.joined()), b: words(b.joined()))
                for wordPiece in wordResult {
                    guard case .take(let tokens) = wordPiece else { return .conflict }
                    output += tokens.joined()
                }
            }
        }
        return .clean(output)
    }

    /// The text cut into lines, each with its line break.
    public static func lines(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if character == "\n" {
                result.append(current)
                current = ""
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// The text cut into words, runs of white space, and single punctuation marks.
    public static func words(_ text: String) -> [String] {
        enum Kind { case word, space, other }
        func kind(_ c: Character) -> Kind {
            if c.isLetter || c.isNumber || c == "'" || c == "’" { return .word }
            if c.isWhitespace { return .space }
            return .other
        }
        var result: [String] = []
        var current = ""
        var currentKind: Kind?
        for character in text {
            let k = kind(character)
            if k == currentKind && k != .other {
                current.append(character)
            } else {
                if !current.isEmpty { result.append(current) }
                current = String(character)
                currentKind = k
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    enum Piece {
        case take([String])
        case conflict(base: [String], a: [String], b: [String])
    }

    /// diff3: the changes of `a` and of `b` against `base`, grouped where they overlap or touch.
    static func merge3(base: [String], a: [String], b: [String]) -> [Piece] {
        let hunksA = Diff.hunks(base, a)
        let hunksB = Diff.hunks(base, b)
        // Every hunk, tagged with its side, by position in the base (ties: A first; grouping makes order moot).
        let tagged = (hunksA.map { (hunk: $0, isA: true) } + hunksB.map { (hunk: $0, isA: false) })
            .sorted { ($0.hunk.aStart, $0.hunk.aEnd) < ($1.hunk.aStart, $1.hunk.aEnd) }
        var pieces: [Piece] = []
        var position = 0
        var index = 0
        while index < tagged.count {
            var start = tagged[index].hunk.aStart
            var end = tagged[index].hunk.aEnd
            var groupA: [Diff.Hunk] = []
            var groupB: [Diff.Hunk] = []
            // Gather every hunk that overlaps or touches the group so far.
            while index < tagged.count && tagged[index].hunk.aStart <= end {
                let item = tagged[index]
                start = min(start, item.hunk.aStart)
                end = max(end, item.hunk.aEnd)
                if item.isA { groupA.append(item.hunk) } else { groupB.append(item.hunk) }
                index += 1
            }
            if position < start { pieces.append(.take(Array(base[position..<start]))) }
            let sideA = groupA.isEmpty ? nil : rebuild(base: base, side: a, hunks: groupA, start: start, end: end)
            let sideB = groupB.isEmpty ? nil : rebuild(base: base, side: b, hunks: groupB, start: start, end: end)
            switch (sideA, sideB) {
            case (let x?, nil), (nil, let x?):
                pieces.append(.take(x))
            case (let x?, let y?) where x == y:
                pieces.append(.take(x))
            case (let x?, let y?):
                pieces.append(.conflict(base: Array(base[start..<end]), a: x, b: y))
            case (nil, nil):
                break
            }
            position = end
        }
        if position < base.count { pieces.append(.take(Array(base[position...]))) }
        return pieces
    }

    /// One side's text for `base[start..<end]`: the base with that side's hunks in the range applied.
    private static func rebuild(base: [String], side: [String], hunks: [Diff.Hunk], start: Int, end: Int) -> [String] {
        var result: [String] = []
        var position = start
        for hunk in hunks {
            result += base[position..<hunk.aStart]
            result += side[hunk.bStart..<hunk.bEnd]
            position = hunk.aEnd
        }
        result += base[position..<end]
        return result
    }
}
