import Foundation

/// The fields a mutation sets: only those that changed are present.
public struct FieldChanges: Codable, Hashable, Sendable {
    public var title: String?
    public var body: String?
    public var visibility: Visibility?
    public var promptID: Int?
    /// The reflection a new comment answers; only in a comment's `create`.
    public var reflectionID: UUID?
    /// Set by a moderator's `hide` (and cleared by an unhide).
    public var hidden: Bool?

    public init(
        title: String? = nil, body: String? = nil, visibility: Visibility? = nil, promptID: Int? = nil,
        reflectionID: UUID? = nil, hidden: Bool? = nil
    ) {
        self.title = title
        self.body = body
        self.visibility = visibility
        self.promptID = promptID
        self.reflectionID = reflectionID
        self.hidden = hidden
    }

    /// These changes with every field that `later` sets taking `later`'s value: two unsent edits folded into one.
    public func overlaid(with later: FieldChanges) -> FieldChanges {
        FieldChanges(
            title: later.title ?? title, body: later.body ?? body, visibility: later.visibility ?? visibility,
            promptID: later.promptID ?? promptID, reflectionID: later.reflectionID ?? reflectionID,
            hidden: later.hidden ?? hidden)
    }

    /// Whether no field is set.
    public var isEmpty: Bool {
        title == nil && body == nil && visibility == nil && promptID == nil && reflectionID == nil && hidden == nil
    }
}
