import Foundation
import ReflectionsModel

/// The whole ``ServerStore``, written once over ``SQLEngine``: ``SQLiteStore`` and ``PostgresStore`` differ only
/// in how they open a transaction.
extension ServerStore where Self: SQLEngine {
    // MARK: Accounts

    public func createMember(_ member: Member, passwordHash: String, now: Int64) async throws {
        try await write { tx in
            let inserted = try tx.fetchOne(
                """
                INSERT INTO members (id, handle, display_name, role, password_hash, disabled, created_at)
                VALUES (?, ?, ?, ?, ?, FALSE, ?)
                ON CONFLICT (handle) DO NOTHING
                RETURNING id
                """, member.id, member.handle, member.displayName, member.role.rawValue, passwordHash, now)
            if inserted == nil {
                throw ServerError(.conflict, "handle_taken", "The handle '\(member.handle)' is taken: choose another.")
            }
        }
    }

    public func credentials(handle: String) async throws -> StoredCredentials? {
        try await read { tx in
            try tx.fetchOne("SELECT * FROM members WHERE handle = ?", handle).map {
                StoredCredentials(
                    member: SQLStoreAccounts.member($0), passwordHash: $0.text("password_hash"),
                    disabled: $0.bool("disabled"))
            }
        }
    }

    public func members() async throws -> [MemberSummary] {
        try await read { tx in
            try tx.fetchAll("SELECT * FROM members ORDER BY handle").map {
                MemberSummary(
                    member: SQLStoreAccounts.member($0), disabled: $0.bool("disabled"),
                    createdAt: $0.integer("created_at"))
            }
        }
    }

    public func setRole(handle: String, role: Member.Role) async throws -> Member {
        try await write { tx in
            try tx.execute("UPDATE members SET role = ? WHERE handle = ?", role.rawValue, handle)
            return try SQLStoreAccounts.requireMember(tx, handle: handle)
        }
    }

    public func setDisplayName(memberID: UUID, displayName: String, now: Int64) async throws -> Member {
        try await write { tx in
            try tx.lockChangeFeed()
            try tx.announceChange()
            guard let row = try tx.fetchOne("SELECT * FROM members WHERE id = ?", memberID) else {
                throw ServerError(.notFound, "not_found", "There is no such member.")
            }
            let member = SQLStoreAccounts.member(row)
            guard member.displayName != displayName else { return member }
            if let last = row.optionalInteger("name_changed_at"), now - last < SQLStoreAccounts.renameIntervalMillis {
                let seconds = (SQLStoreAccounts.renameIntervalMillis - (now - last) + 999) / 1000
                throw ServerError(
                    .tooManyRequests, "rename_too_soon",
                    "A display name can change once an hour: try again in \((seconds + 59) / 60) min.",
                    headers: [.retryAfter: "\(seconds)"])
            }
            try tx.execute(
                "UPDATE members SET display_name = ?, name_changed_at = ? WHERE id = ?", displayName, now, memberID)
            // Only what other members can see now is sent again: a shared, live reflection, and a live, unhidden
            // comment on one. Private, deleted and hidden records keep their place in the log, so a rename tells no
            // one anything about them (not even, through gaps in the sequence, that they exist); the author's own
            // devices show "you" for their own writing and learn the new name from any shared record.
            try SQLStorePush.resequence(
                tx, .reflection,
                """
                SELECT id, author_id AS owner FROM reflections
                WHERE author_id = ? AND visibility = 'community' AND deleted = ?
                ORDER BY seq
                """, [memberID.sqlValue, false.sqlValue], actor: memberID, mutation: nil, operation: "rename",
                now: now)
            try SQLStorePush.resequence(
                tx, .comment,
                """
                SELECT c.id AS id, c.author_id AS owner FROM comments c JOIN reflections r ON r.id = c.reflection_id
                WHERE c.author_id = ? AND c.deleted = ? AND c.hidden = ? AND r.visibility = 'community'
                    AND r.deleted = ?
                ORDER BY c.seq
                """, [memberID.sqlValue, false.sqlValue, false.sqlValue, false.sqlValue], actor: memberID,
                mutation: nil, operation: "rename", now: now)
            return try SQLStoreAccounts.requireMember(tx, handle: member.handle)
        }
    }

    public func setDisabled(handle: String, disabled: Bool) async throws -> Member {
        try await write { tx in
            try tx.execute("UPDATE members SET disabled = ? WHERE handle = ?", disabled, handle)
            let member = try SQLStoreAccounts.requireMember(tx, handle: handle)
            if disabled {
                try tx.execute("DELETE FROM sessions WHERE member_id = ?", member.id)
                try tx.announceChange()
            }
            return member
        }
    }

    // MARK: Login attempts

    public func beginLoginAttempt(handle: String, source: String, now: Int64) async throws -> Int64 {
        try await write { tx in
            try tx.execute(
                "DELETE FROM login_attempts WHERE last_attempt_at < ?", now - LoginThrottle.forgetAfterMillis)
            // One atomic, conditional increment, counted before the password is checked, so that attempts in
            // flight count, on every server behind this database. The lock check is part of the upsert: the row is
            // locked and its latest version checked (PostgreSQL re-reads it after a concurrent attempt commits),
            // so concurrent attempts cannot all read an old, unlocked state.
            let counted = try tx.fetchOne(
                """
                INSERT INTO login_attempts (handle, source, failures, locked_until, last_attempt_at)
                VALUES (?, ?, 1, 0, ?)
                ON CONFLICT (handle, source) DO UPDATE
                    SET failures = login_attempts.failures + 1, last_attempt_at = excluded.last_attempt_at
                    WHERE login_attempts.locked_until <= ?
                RETURNING failures
                """, handle, source, now, now)
            guard let failures = counted?.integer("failures") else {
                let lockedUntil =
                    try tx.fetchOne(
                        "SELECT locked_until FROM login_attempts WHERE handle = ? AND source = ?", handle, source)?
                    .integer("locked_until") ?? now
                return max(1, lockedUntil - now)
            }
            try tx.execute(
                "UPDATE login_attempts SET locked_until = ? WHERE handle = ? AND source = ?",
                LoginThrottle.lockedUntil(failures: failures, now: now), handle, source)
            return 0
        }
    }

    public func clearLoginAttempts(handle: String, source: String) async throws {
        try await write { tx in
            try tx.execute("DELETE FROM login_attempts WHERE handle = ? AND source = ?", handle, source)
        }
    }

    // MARK: Sessions

    public func createSession(tokenHash: String, memberID: UUID, now: Int64) async throws {
        try await write { tx in
            try tx.execute(
                "INSERT INTO sessions (token_hash, member_id, created_at, last_used_at) VALUES (?, ?, ?, ?)",
                tokenHash, memberID, now, now)
        }
    }

    public func member(tokenHash: String, now: Int64, policy: SessionPolicy) async throws -> Member? {
        let found = try await read { tx in
            try tx.fetchOne(
                """
                SELECT m.*, s.created_at AS session_created_at, s.last_used_at AS session_last_used_at
                FROM sessions s JOIN members m ON m.id = s.member_id
                WHERE s.token_hash = ? AND NOT m.disabled
                """, tokenHash
            ).map { row in
                let created = row.integer("session_created_at")
                return SessionUse(
                    member: SQLStoreAccounts.member(row), createdAt: created,
                    lastUsedAt: row.optionalInteger("session_last_used_at") ?? created)
            }
        }
        guard let found else { return nil }
        guard policy.isLive(createdAt: found.createdAt, lastUsedAt: found.lastUsedAt, now: now) else {
            try await deleteSession(tokenHash: tokenHash)
            return nil
        }
        if policy.shouldTouch(lastUsedAt: found.lastUsedAt, now: now) {
            try await write { tx in
                try tx.execute("UPDATE sessions SET last_used_at = ? WHERE token_hash = ?", now, tokenHash)
            }
        }
        return found.member
    }

    public func deleteSession(tokenHash: String) async throws {
        try await write { tx in
            try tx.execute("DELETE FROM sessions WHERE token_hash = ?", tokenHash)
            try tx.announceChange()
        }
    }

    public func sessions(handle: String, policy: SessionPolicy) async throws -> [SessionSummary] {
        try await read { tx in
            let member = try SQLStoreAccounts.requireMember(tx, handle: handle)
            return try tx.fetchAll(
                "SELECT * FROM sessions WHERE member_id = ? ORDER BY created_at, token_hash", member.id
            ).map { row in
                let created = row.integer("created_at")
                let lastUsed = row.optionalInteger("last_used_at") ?? created
                return SessionSummary(
                    id: String(row.text("token_hash").prefix(12)), createdAt: created, lastUsedAt: lastUsed,
                    expiresAt: policy.expiry(createdAt: created, lastUsedAt: lastUsed))
            }
        }
    }

    public func revokeSessions(handle: String) async throws -> Int {
        try await write { tx in
            let member = try SQLStoreAccounts.requireMember(tx, handle: handle)
            let count =
                try tx.fetchOne("SELECT COUNT(*) AS n FROM sessions WHERE member_id = ?", member.id)?.integer("n") ?? 0
            try tx.execute("DELETE FROM sessions WHERE member_id = ?", member.id)
            try tx.announceChange()
            return Int(count)
        }
    }

    public func prompts() async throws -> [Prompt] {
        try await read { tx in
            try tx.fetchAll("SELECT id, text FROM prompts ORDER BY id").map {
                Prompt(id: Int($0.integer("id")), text: $0.text("text"))
            }
        }
    }

    // MARK: Sync

    public func push(_ request: PushRequest, by member: Member, now: Int64) async throws -> PushResponse {
        try await write { tx in try SQLStorePush.push(tx, request, by: member, now: now) }
    }

    public func pull(
        for member: Member, since: Int64, limit: Int, fullDownload: Bool, downloadHorizon: Int64?
    ) async throws -> PullResponse {
        try await read { tx in
            try SQLStorePull.pull(
                tx, for: member, since: since, limit: limit, fullDownload: fullDownload,
                downloadHorizon: downloadHorizon)
        }
    }

    public func log(for member: Member?, since: Int64, limit: Int) async throws -> LogResponse {
        try await read { tx in try SQLStorePull.log(tx, for: member, since: since, limit: limit) }
    }

    public func epoch() async throws -> String {
        try await read { tx in try tx.fetchOne("SELECT epoch FROM server_epoch WHERE id = 1")?.text("epoch") ?? "" }
    }

    /// Also ends every session: a restored database would otherwise bring back sessions ended (a stolen device
    /// logged out everywhere, a member disabled) after the backup was taken. Members log in again.
    public func renewEpoch(now: Int64) async throws -> String {
        let epoch = UUID().uuidString.lowercased()
        try await write { tx in
            try tx.execute("UPDATE server_epoch SET epoch = ?, since = ? WHERE id = 1", epoch, now)
            try tx.execute("DELETE FROM sessions")
            try tx.announceChange()
        }
        return epoch
    }

    public func head() async throws -> Int64 {
        try await read { tx in try tx.fetchOne("SELECT MAX(seq) AS head FROM change_log")?.optionalInteger("head") ?? 0
        }
    }
}

/// Row helpers of the accounts part.
enum SQLStoreAccounts {
    /// The shortest time between two display-name changes of one member (`rename_too_soon` before it): each
    /// rename re-sends the member's shared records to every device, so it is bounded.
    static let renameIntervalMillis: Int64 = 60 * 60 * 1000

    static func member(_ row: SQLRow) -> Member {
        Member(
            id: row.uuid("id"), handle: row.text("handle"), displayName: row.text("display_name"),
            role: Member.Role(rawValue: row.text("role")) ?? .member)
    }

    static func requireMember(_ tx: any SQLTransaction, handle: String) throws -> Member {
        guard let row = try tx.fetchOne("SELECT * FROM members WHERE handle = ?", handle) else {
            throw ServerError.notFound("The member '\(handle)'")
        }
        return member(row)
    }

    /// Adds the default prompts that are missing, and the database's epoch if it has none (every start; harmless
    /// when they exist).
    static func seedPrompts(_ tx: any SQLTransaction) throws {
        for prompt in Prompt.defaults {
            try tx.execute(
                "INSERT INTO prompts (id, text) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", prompt.id, prompt.text)
        }
        try tx.execute(
            "INSERT INTO server_epoch (id, epoch, since) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
            UUID().uuidString.lowercased(), WallClock.system.now())
    }
}
