import Foundation
import ReflectionsModel

/// A problem the client reports to the member: a stable code and a one-line message that says what to do.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem it is; the CLI turns each into its own exit code.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let notInitialized = Code(rawValue: "not_initialized")
        public static let alreadyInitialized = Code(rawValue: "already_initialized")
        public static let notLoggedIn = Code(rawValue: "not_logged_in")
        public static let notFound = Code(rawValue: "not_found")
        public static let ambiguousID = Code(rawValue: "ambiguous_id")
        public static let invalidInput = Code(rawValue: "invalid_input")
        public static let notAllowed = Code(rawValue: "not_allowed")
        public static let nothingToDo = Code(rawValue: "nothing_to_do")
        public static let unreachable = Code(rawValue: "unreachable")
        public static let untrusted = Code(rawValue: "untrusted")
        public static let server = Code(rawValue: "server")
        public static let wrongMember = Code(rawValue: "wrong_member")
        /// The local database could not be written (busy, full, read-only).
        public static let storage = Code(rawValue: "storage")
    }

    /// What the member can do next, for each front end to turn into its own advice (the command line names a
    /// command, the page a link); the library never names either.
    public enum NextStep: String, Sendable, Codable, Hashable {
        /// Set this home up for a server.
        case setUp = "set_up"
        /// Log in (again).
        case logIn = "log_in"
        /// See which reflections and comments this home holds.
        case listRecords = "list_records"
        /// See the changes the server refused.
        case listRejected = "list_rejected"
        /// See the prompts.
        case listPrompts = "list_prompts"
        /// See the open conflicts.
        case listConflicts = "list_conflicts"
        /// The server's certificate changed: if on purpose, set up trust in the new one.
        case trustAgain = "trust_again"
        /// This home belongs to another member or server: use a home of one's own.
        case useAnotherHome = "use_another_home"
    }

    public var code: Code
    public var message: String
    /// The member's next step, if there is one.
    public var next: NextStep?
    /// For ``Code/server``: the HTTP status and the server's error code.
    public var status: Int?
    public var serverCode: String?
    /// The technical cause, for the sync log (`reflect log`), never for the one-line message.
    public var cause: String?
    /// The server's `Retry-After`, in seconds, when it sent one (429, 503).
    public var retryAfterSeconds: Int?

    public init(
        _ code: Code, _ message: String, next: NextStep? = nil, status: Int? = nil, serverCode: String? = nil,
        cause: String? = nil
    ) {
        self.code = code
        self.message = message
        self.next = next
        self.status = status
        self.serverCode = serverCode
        self.cause = cause
    }

    public var description: String { message }

    /// The message with its cause, as the sync log keeps it.
    public var logText: String { cause.map { "\(message) (\($0))" } ?? message }

    static func invalid(_ error: ValidationError) -> ClientError { ClientError(.invalidInput, error.message) }
}
