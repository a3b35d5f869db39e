import ReflectionsModel
import Testing

@Suite struct RecordMergeTests {
    let base = RecordFields(title: "Allyship", body: "First.\n\nSecond.\n", visibility: .community, promptID: 1)
    func side(_ fields: RecordFields, _ physical: Int64, _ node: String = "n") -> RecordMerge.Side {
        RecordMerge.Side(fields, stamp: HLCTimestamp(physical: physical, node: node))
    }

    @Test func noConcurrentChangeFastForwards() {
        var incoming = base
        incoming.body = "Changed."
        let result = RecordMerge.merge(
            entity: .reflection, base: base, current: side(base, 1), incoming: side(incoming, 2))
        #expect(result.outcome == .applied)
        #expect(result.fields == incoming)
    }

    @Test func aFieldChangedOnOneSideTakesThatSide() {
        var current = base
        current.title = "Allyship on nights"
        var incoming = base
        incoming.promptID = 4
        let result = RecordMerge.merge(
            entity: .reflection, base: base, current: side(current, 1), incoming: side(incoming, 2))
        #expect(result.outcome == .merged)
        #expect(result.fields.title == "Allyship on nights")
        #expect(result.fields.promptID == 4)
    }

    @Test(arguments: [
        (Visibility.private, Visibility.community),
        (Visibility.community, Visibility.private),
    ])
    func privateWinsWhenBothSidesChangeVisibility(current: Visibility, incoming: Visibility) {
        let start = RecordFields(title: "t", body: "b", visibility: nil)
        var cur = start
        cur.visibility = current
        var inc = start
        inc.visibility = incoming
        let result = RecordMerge.merge(entity: .reflection, base: start, current: side(cur, 1), incoming: side(inc, 2))
        #expect(result.fields.visibility == .private)
    }

    @Test func anOverlappingEditKeepsCurrentAndTheIncomingVersionWhole() {
        var current = base
        current.body = "First, edited here.\n\nSecond.\n"
        current.visibility = .private
        var incoming = base
        incoming.body = "First, edited there.\n\nSecond.\n"
        let result = RecordMerge.merge(
            entity: .reflection, base: base, current: side(current, 1), incoming: side(incoming, 2))
        #expect(result.outcome == .conflict)
        #expect(result.conflictKind == .text)
        #expect(result.fields.body == current.body)
        #expect(result.keptRevision == incoming)
        #expect(result.fields.visibility == .private)
    }

    @Test func anEditConcurrentWithADeleteSurvives() {
        var edited = base
        edited.body = "First.\n\nSecond, with more.\n"
        var deleted = base
        deleted.deleted = true
        // The delete arrives second: the edit stays and the delete is kept as the revision.
        let a = RecordMerge.merge(entity: .reflection, base: base, current: side(edited, 1), incoming: side(deleted, 2))
        #expect(a.outcome == .conflict && a.conflictKind == .deleteVersusEdit)
        #expect(a.fields == edited)
        #expect(a.keptRevision?.deleted == true)
        // The edit arrives second: the record comes back with the edit.
        let b = RecordMerge.merge(entity: .reflection, base: base, current: side(deleted, 1), incoming: side(edited, 2))
        #expect(b.outcome == .conflict && b.conflictKind == .editVersusDelete)
        #expect(b.fields == edited)
        #expect(!b.fields.deleted)
    }

    @Test func aDeleteOfAnUneditedRecordApplies() {
        var current = base
        current.promptID = 3  // not content the delete could lose? It is: the prompt changed.
        var deleted = base
        deleted.deleted = true
        let unedited = RecordMerge.merge(
            entity: .reflection, base: base, current: side(base, 1), incoming: side(deleted, 2))
        #expect(unedited.fields.deleted && unedited.outcome == .applied)
        let edited = RecordMerge.merge(
            entity: .reflection, base: base, current: side(current, 1), incoming: side(deleted, 2))
        #expect(!edited.fields.deleted && edited.outcome == .conflict)
    }

    @Test func bothChangingThePromptTakesTheLaterStampWhicheverArrivesFirst() {
        var a = base
        a.promptID = 2
        var b = base
        b.promptID = 5
        let ab = RecordMerge.merge(
            entity: .reflection, base: base, current: side(a, 10, "a"), incoming: side(b, 20, "b"))
        let ba = RecordMerge.merge(
            entity: .reflection, base: base, current: side(b, 20, "b"), incoming: side(a, 10, "a"))
        #expect(ab.fields.promptID == 5)
        #expect(ba.fields.promptID == 5)
    }

    @Test func aMergeThatWouldBreakTheBodyLimitIsAConflict() {
        let half = String(repeating: "x", count: Limits.reflectionBodyMaxBytes / 2 + 10)
        let start = RecordFields(title: "t", body: "a\nb\nc\n", visibility: .private)
        var cur = start
        cur.body = half + "\nb\nc\n"
        var inc = start
        inc.body = "a\nb\n" + half + "\n"
        let result = RecordMerge.merge(entity: .reflection, base: start, current: side(cur, 1), incoming: side(inc, 2))
        #expect(result.outcome == .conflict)
        #expect(result.fields.body == cur.body)
        #expect(result.keptRevision == inc)
    }

    @Test func aModeratorHidingAndTheAuthorEditingACommentBothHold() {
        let start = RecordFields(body: "Thank you.\n\nI agree.\n", hidden: false)
        var hidden = start
        hidden.hidden = true
        var edited = start
        edited.body = "Thank you.\n\nI agree, strongly.\n"
        let result = RecordMerge.merge(
            entity: .comment, base: start, current: side(hidden, 1), incoming: side(edited, 2))
        #expect(result.outcome == .merged)
        #expect(result.fields.hidden == true)
        #expect(result.fields.body == edited.body)
    }
}
