/// The part of a reflection or comment that edits change and ``RecordMerge`` merges.
///
/// Reflections use `title`, `body`, `visibility`, `promptID` and `deleted`; comments use `body`, `deleted` and
/// `hidden`. Fields a kind does not use are `nil`.
public struct RecordFields: Codable, Hashable, Sendable {
    public var title: String?
    public var body: String
    public var visibility: Visibility?
    public var promptID: Int?
    public var deleted: Bool
    public var hidden: Bool?

    public init(
        title: String? = nil, body: String, visibility: Visibility? = nil, promptID: Int? = nil,
        deleted: Bool = false, hidden: Bool? = nil
    ) {
        self.title = title
        self.body = body
        self.visibility = visibility
        self.promptID = promptID
        self.deleted = deleted
        self.hidden = hidden
    }

    /// These fields with a mutation's changes applied.
    public func applying(_ changes: FieldChanges) -> RecordFields {
        var copy = self
        if let title = changes.title { copy.title = title }
        if let body = changes.body { copy.body = body }
        if let visibility = changes.visibility { copy.visibility = visibility }
        if let promptID = changes.promptID { copy.promptID = promptID }
        if let hidden = changes.hidden { copy.hidden = hidden }
        return copy
    }

    /// The changes that turn `base` into these fields (deletion aside).
    public func changes(from base: RecordFields) -> FieldChanges {
        FieldChanges(
            title: title == base.title ? nil : title,
            body: body == base.body ? nil : body,
            visibility: visibility == base.visibility ? nil : visibility,
            promptID: promptID == base.promptID ? nil : promptID,
            hidden: hidden == base.hidden ? nil : hidden
        )
    }

    /// Whether the content (everything but `deleted`) equals another's.
    public func sameContent(as other: RecordFields) -> Bool {
        var a = self
        var b = other
        a.deleted = false
        b.deleted = false
        return a == b
    }
}
