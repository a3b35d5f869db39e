import Foundation
import ReflectionsModel
import Testing

@Suite struct FieldChangesTests {
    @Test func aLaterEditOverridesOnlyTheFieldsItSets() {
        let parent = UUID()
        let first = FieldChanges(
            title: "First", body: "Body.\n", visibility: .private, promptID: 2, reflectionID: parent)
        let later = FieldChanges(body: "Better body.\n", visibility: .community, hidden: true)
        let folded = first.overlaid(with: later)
        #expect(
            folded
                == FieldChanges(
                    title: "First", body: "Better body.\n", visibility: .community, promptID: 2, reflectionID: parent,
                    hidden: true))
        #expect(first.overlaid(with: FieldChanges()) == first)
        #expect(FieldChanges().overlaid(with: later) == later)
    }
}
