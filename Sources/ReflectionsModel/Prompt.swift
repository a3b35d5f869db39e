/// A question members reflect on.
public struct Prompt: Codable, Hashable, Sendable, Identifiable {
    public var id: Int
    public var text: String

    public init(id: Int, text: String) {
        self.id = id
        self.text = text
    }

    /// The six questions of the community discussion on racial inequity in health care; a new server starts
    /// with them, numbered 1 to 6.
    public static let defaults: [Prompt] = [
        "What does great allyship look like?",
        "How can a growing awareness of racism be shared with others who may be less willing to engage?",
        "What has been my role in perpetuating racism?",
        "What practical actions can we take to support change?",
        "How do we ensure the intersections of race are acknowledged?",
        "What has delayed improvement work addressing racial inequity?",
    ].enumerated().map { Prompt(id: $0.offset + 1, text: $0.element) }
}
