/// A value that breaks one of the documented rules of ``Validation``.
///
/// Each rule has its own ``Code`` so that clients can react to it, and a message that says what to fix.
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What rule was broken.
    public struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let titleEmpty = Code(rawValue: "title_empty")
        public static let titleTooLong = Code(rawValue: "title_too_long")
        public static let titleMultiline = Code(rawValue: "title_multiline")
        public static let bodyEmpty = Code(rawValue: "body_empty")
        public static let bodyTooLong = Code(rawValue: "body_too_long")
        public static let commentEmpty = Code(rawValue: "comment_empty")
        public static let commentTooLong = Code(rawValue: "comment_too_long")
        public static let controlCharacter = Code(rawValue: "control_character")
        public static let invalidID = Code(rawValue: "invalid_id")
        public static let invalidHandle = Code(rawValue: "invalid_handle")
        public static let invalidDisplayName = Code(rawValue: "invalid_display_name")
        public static let invalidDeviceName = Code(rawValue: "invalid_device_name")
        public static let passwordTooShort = Code(rawValue: "password_too_short")
        public static let passwordTooLong = Code(rawValue: "password_too_long")
        public static let invalidVisibility = Code(rawValue: "invalid_visibility")
        public static let invalidClock = Code(rawValue: "invalid_clock")
    }

    /// The broken rule.
    public var code: Code
    /// The field that broke it, as named on the wire (`title`, `body`, …).
    public var field: String
    /// What is wrong and how to fix it.
    public var message: String

    public init(_ code: Code, field: String, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { message }
}
