import Foundation
import ReflectionsModel

/// A member's stored credentials, for login.
public struct StoredCredentials: Sendable {
    public var member: Member
    public var passwordHash: String
    public var disabled: Bool
}

/// A member as an operator sees them in `reflectd user list`.
public struct MemberSummary: Codable, Sendable, Hashable {
    public var member: Member
    public var disabled: Bool
    public var createdAt: Int64
}

/// Everything the server keeps, behind one small protocol so that routes never see the engine.
///
/// Implementations: ``SQLiteStore`` (the embedded default) and ``PostgresStore``, both through the shared
/// rules over ``SQLEngine``. Every method that writes does so in one transaction and is durable when it returns.
public protocol ServerStore: Sendable {
    /// Closes the database (every connection); further calls fail.
    func close() async throws

    /// Adds a member; throws a 409 ``ServerError`` (`handle_taken`) if the handle is in use.
    func createMember(_ member: Member, passwordHash: String, now: Int64) async throws
    /// The credentials of the member with this handle, if any.
    func credentials(handle: String) async throws -> StoredCredentials?
    /// Every member, by handle.
    func members() async throws -> [MemberSummary]
    /// Changes a member's role; throws 404 if there is no such handle.
    func setRole(handle: String, role: Member.Role) async throws -> Member
    /// Disables (or enables) a member; disabling also ends all of their sessions.
    func setDisabled(handle: String, disabled: Bool) async throws -> Member

    /// Stores a new session under the SHA-256 of its token.
    func createSession(tokenHash: String, memberID: UUID, now: Int64) async throws
    /// The member a live session belongs to (nil if the session is unknown or the member disabled).
    func member(tokenHash: String) async throws -> Member?
    /// Ends a session.
    func deleteSession(tokenHash: String) async throws

    /// Milliseconds before another login for `handle` may be tried (see ``LoginThrottle``), or 0.
    func loginDelay(handle: String, now: Int64) async throws -> Int64
    /// Counts a failed login for `handle`; enough of them lock the handle for a while.
    func recordLoginFailure(handle: String, now: Int64) async throws
    /// Forgets the failed logins of `handle` (after a successful one).
    func clearLoginFailures(handle: String) async throws

    /// The prompts, by id.
    func prompts() async throws -> [Prompt]

    /// Applies a batch of mutations in one durable transaction; see ``SyncRules``.
    func push(_ request: PushRequest, by member: Member, now: Int64) async throws -> PushResponse
    /// The changes after `since` that `member` may see, in sequence order.
    func pull(for member: Member, since: Int64, limit: Int) async throws -> PullResponse
    /// The change log: a member's own entries, or everyone's for `nil` (the operator).
    func log(for member: Member?, since: Int64, limit: Int) async throws -> LogResponse
}
