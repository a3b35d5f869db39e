import ReflectionsModel
import Testing

@Suite struct TextMergeTests {
    let base = """
        Allyship starts with listening.

        On the ward we rarely talk about race.

        I want to change how I ask questions.
        """

    @Test func editsToDifferentParagraphsMergeCleanly() {
        let ours = base.replacingOccurrences(of: "starts with listening", with: "starts with listening closely")
        let theirs = base.replacingOccurrences(of: "I want to change", with: "This year I will change")
        let expected = """
            Allyship starts with listening closely.

            On the ward we rarely talk about race.

            This year I will change how I ask questions.
            """
        #expect(TextMerge.merge(base: base, ours: ours, theirs: theirs) == .clean(expected))
        #expect(TextMerge.merge(base: base, ours: theirs, theirs: ours) == .clean(expected))
    }

    @Test func editsToDifferentWordsOfOneLineMergeByWord() {
        let base = "We rarely talk about race on the ward."
        let ours = "We seldom talk about race on the ward."
        let theirs = "We rarely talk about race on the night ward."
        #expect(
            TextMerge.merge(base: base, ours: ours, theirs: theirs)
                == .clean("We seldom talk about race on the night ward."))
    }

    @Test func editsToTheSameWordsAreAConflict() {
        let base = "We rarely talk about race."
        #expect(
            TextMerge.merge(base: base, ours: "We never talk about race.", theirs: "We seldom talk about race.")
                == .conflict)
    }

    @Test func insertionsAtTheSamePlaceAreAConflict() {
        let base = "One.\nTwo.\n"
        #expect(TextMerge.merge(base: base, ours: "One.\nA.\nTwo.\n", theirs: "One.\nB.\nTwo.\n") == .conflict)
    }

    @Test func identicalEditsAndOneSidedEditsAreTrivial() {
        #expect(TextMerge.merge(base: "a", ours: "b", theirs: "b") == .clean("b"))
        #expect(TextMerge.merge(base: "a", ours: "a", theirs: "c") == .clean("c"))
        #expect(TextMerge.merge(base: "a", ours: "d", theirs: "a") == .clean("d"))
    }

    @Test func aDeletedParagraphAndAnEditElsewhereMerge() {
        let ours = base.replacingOccurrences(of: "On the ward we rarely talk about race.\n\n", with: "")
        let theirs = base.replacingOccurrences(of: "questions", with: "open questions")
        #expect(
            TextMerge.merge(base: base, ours: ours, theirs: theirs)
                == .clean("Allyship starts with listening.\n\nI want to change how I ask open questions."))
    }

    @Test func diffHunksRebuildTheOtherText() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<300 {
            let a = (0..<Int.random(in: 0...30, using: &rng)).map { _ in Int.random(in: 0...5, using: &rng) }
            let b = (0..<Int.random(in: 0...30, using: &rng)).map { _ in Int.random(in: 0...5, using: &rng) }
            var rebuilt: [Int] = []
            var position = 0
            for hunk in Diff.hunks(a, b) {
                rebuilt += a[position..<hunk.aStart]
                rebuilt += b[hunk.bStart..<hunk.bEnd]
                position = hunk.aEnd
            }
            rebuilt += a[position...]
            #expect(rebuilt == b, "a=\(a) b=\(b)")
        }
    }

    @Test func aRewriteFromEndToEndStillDiffsCorrectly() {
        let a = (0..<5000).map { $0 * 2 }
        let b = (0..<5000).map { $0 * 2 + 1 }
        let hunks = Diff.hunks(a, b)
        #expect(hunks == [Diff.Hunk(aStart: 0, aEnd: 5000, bStart: 0, bEnd: 5000)])
    }
}
