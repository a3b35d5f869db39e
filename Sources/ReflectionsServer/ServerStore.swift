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
    /// Changes a member's display name. Their records are given new sequence numbers, so that every device that
    /// may see them pulls them again with the new name (names travel only inside records that ``Access`` lets a
    /// viewer have; there is no other way to read them). Costs one change per record the member wrote.
    func setDisplayName(memberID: UUID, displayName: String, now: Int64) async throws -> Member
    /// Disables (or enables) a member; disabling also ends all of their sessions.
    func setDisabled(handle: String, disabled: Bool) async throws -> Member

    /// Stores a new session under the SHA-256 of its token.
    func createSession(tokenHash: String, memberID: UUID, now: Int64) async throws
    /// The member a live session belongs to: nil if the session is unknown, expired under `policy` (it is then
    /// deleted) or the member disabled. Records the use (at most hourly).
    func member(tokenHash: String, now: Int64, policy: SessionPolicy) async throws -> Member?
    /// Ends a session.
    func deleteSession(tokenHash: String) async throws
    /// The sessions of the member with this handle; throws 404 if there is none.
    func sessions(handle: String, policy: SessionPolicy) async throws -> [SessionSummary]
    /// Ends every session of the member with this handle and returns how many there were.
    func revokeSessions(handle: String) async throws -> Int

    /// Starts a login attempt for `handle` from `source` (an address): 0 if it may go ahead (it is counted now,
    /// before the password is checked, so attempts in flight count), otherwise the milliseconds to wait (see
    /// ``LoginThrottle``).
    func beginLoginAttempt(handle: String, source: String, now: Int64) async throws -> Int64
    /// Forgets the attempts of `handle` from `source` (after a successful login).
    func clearLoginAttempts(handle: String, source: String) async throws

    /// The prompts, by id.
    func prompts() async throws -> [Prompt]

    /// Applies a batch of mutations in one durable transaction; see ``SyncRules``.
    func push(_ request: PushRequest, by member: Member, now: Int64) async throws -> PushResponse
    /// The changes after `since` that `member` may see, in sequence order.
    ///
    /// A `since` above 0 and below the compaction horizon throws 410 `cursor_expired`, unless `fullDownload`
    /// says the caller is paging a download that started from 0 (a resync), which passes such cursors on its way.
    /// `downloadHorizon`: for a download from 0, the horizon its first page named; a later page is refused (410)
    /// if the horizon has moved since.
    func pull(for member: Member, since: Int64, limit: Int, fullDownload: Bool, downloadHorizon: Int64?) async throws
        -> PullResponse
    /// The change log: a member's own entries, or everyone's for `nil` (the operator).
    func log(for member: Member?, since: Int64, limit: Int) async throws -> LogResponse
    /// The database's epoch: made with the database, and made anew by ``renewEpoch(now:)`` when it is restored
    /// from a backup. Clients that see it change resync instead of trusting their cursor.
    func epoch() async throws -> String
    /// Removes, in bounded batches, what no device needs any more (see ``SQLStoreCompaction``): tombstones,
    /// resolved revisions, ledger entries and log rows older than `keepDays`; moves the horizon.
    func compact(keepDays: Int, now: Int64) async throws -> CompactionReport
    /// The compaction horizon: a device whose cursor is below it (and above 0) must resync.
    func horizon() async throws -> Int64
    /// The database's size on disk in bytes (for metrics).
    func databaseBytes() async throws -> Int64
    /// Gives the database a new epoch (after a restore) and returns it.
    func renewEpoch(now: Int64) async throws -> String
    /// The newest sequence number of the change log (0 when it is empty): what a pull names as its cursor.
    func head() async throws -> Int64
    /// Runs until cancelled, calling `onChange` whenever another process or server may have committed something
    /// a change stream should look at: a change, or a session ending. SQLite polls `PRAGMA data_version`;
    /// PostgreSQL listens for the `NOTIFY` of ``SQLTransaction/announceChange()`` and reconnects with backoff
    /// (calling `onChange` after each reconnection, for what it may have missed).
    func watchChanges(_ onChange: @escaping @Sendable () -> Void) async throws
}

extension ServerStore {
    /// A pull that checks the compaction horizon (see ``pull(for:since:limit:fullDownload:)``).
    public func pull(for member: Member, since: Int64, limit: Int) async throws -> PullResponse {
        try await pull(for: member, since: since, limit: limit, fullDownload: false, downloadHorizon: nil)
    }
}
