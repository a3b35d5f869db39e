import Foundation
import ReflectionsModel

/// When a session (a bearer token) ends by itself: after ``idleMillis`` without use, and ``maxAgeMillis`` after
/// it was made, whichever comes first. A stolen token is therefore useful for a bounded time even when nobody
/// notices. The defaults are 30 days idle and 180 days in all; `reflectd serve --session-idle-days` and
/// `--session-max-days` change them.
///
/// Use is recorded at most once an hour (``touchEveryMillis``), so that an authenticated read does not become a
/// database write on every request; the idle limit is therefore exact to within an hour.
public struct SessionPolicy: Sendable, Hashable {
    public var idleMillis: Int64
    public var maxAgeMillis: Int64
    public static let touchEveryMillis: Int64 = 60 * 60 * 1000
    static let dayMillis: Int64 = 24 * 60 * 60 * 1000

    public init(idleDays: Int64 = 30, maxDays: Int64 = 180) {
        idleMillis = idleDays * Self.dayMillis
        maxAgeMillis = maxDays * Self.dayMillis
    }

    /// Whether a session made at `createdAt` and last used at `lastUsedAt` is still live at `now`.
    public func isLive(createdAt: Int64, lastUsedAt: Int64, now: Int64) -> Bool {
        now < expiry(createdAt: createdAt, lastUsedAt: lastUsedAt)
    }

    /// When such a session ends if it is not used again.
    public func expiry(createdAt: Int64, lastUsedAt: Int64) -> Int64 {
        min(createdAt + maxAgeMillis, max(createdAt, lastUsedAt) + idleMillis)
    }

    /// Whether a use at `now` should be written down.
    func shouldTouch(lastUsedAt: Int64, now: Int64) -> Bool {
        now - lastUsedAt >= Self.touchEveryMillis
    }
}

/// A session as `reflectd user sessions` shows it: never the token, nor its whole hash.
public struct SessionSummary: Codable, Sendable, Hashable {
    /// The first 12 hex digits of the token's SHA-256: enough to tell sessions apart.
    public var id: String
    public var createdAt: Int64
    public var lastUsedAt: Int64
    public var expiresAt: Int64
}

/// A session found by its token, with what its expiry depends on.
struct SessionUse: Sendable {
    var member: Member
    var createdAt: Int64
    var lastUsedAt: Int64
}
