/// The body of every error response: `{"error": {"code": …, "message": …}}`.
public struct ErrorBody: Codable, Hashable, Sendable {
    /// The error itself.
    public struct Detail: Codable, Hashable, Sendable {
        /// A stable, machine-readable code such as `unauthorized` or `validation.title_empty`.
        public var code: String
        /// What went wrong, for a person.
        public var message: String
    }

    public var error: Detail

    public init(code: String, message: String) {
        self.error = Detail(code: code, message: message)
    }
}
