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

    public func setDisabled(handle: String, disabled: Bool) async throws -> Member {
        try await write { tx in
            try tx.execute("UPDATE members SET disabled = ? WHERE handle = ?", disabled, handle)
            let member = try SQLStoreAccounts.requireMember(tx, handle: handle)
            if disabled {
                try tx.execute("DELETE FROM sessions WHERE member_id = ?", member.id)
            }
            return member
        }
    }

    // MARK: Failed logins

    public func loginDelay(handle: String, now: Int64) async throws -> Int64 {
        try await read { tx in
            let lockedUntil =
                try tx.fetchOne("SELECT locked_until FROM login_failures WHERE handle = ?", handle)?
                .integer("locked_until") ?? 0
            return max(0, lockedUntil - now)
        }
    }

    public func recordLoginFailure(handle: String, now: Int64) async throws {
        try await write { tx in
            try tx.execute(
                "DELETE FROM login_failures WHERE last_failure_at < ?", now - LoginThrottle.forgetAfterMillis)
            // One atomic increment, so that servers counting failures for the same handle at once lose none.
            let failures =
                try tx.fetchOne(
                    """
                    INSERT INTO login_failures (handle, failures, locked_until, last_failure_at) VALUES (?, 1, 0, ?)
                    ON CONFLICT (handle) DO UPDATE
                        SET failures = login_failures.failures + 1, last_failure_at = excluded.last_failure_at
                    RETURNING failures
                    """, handle, now)?.integer("failures") ?? 1
            try tx.execute(
                "UPDATE login_failures SET locked_until = ? WHERE handle = ?",
                LoginThrottle.lockedUntil(failures: failures, now: now), handle)
        }
    }

    public func clearLoginFailures(handle: String) async throws {
        try await write { tx in
            try tx.execute("DELETE FROM login_failures WHERE handle = ?", handle)
        }
    }

    // MARK: Sessions

    public func createSession(tokenHash: String, memberID: UUID, now: Int64) async throws {
        try await write { tx in
            try tx.execute(
                "INSERT INTO sessions (token_hash, member_id, created_at) VALUES (?, ?, ?)", tokenHash, memberID, now)
        }
    }

    public func member(tokenHash: String) async throws -> Member? {
        try await read { tx in
            try tx.fetchOne(
                """
                SELECT m.* FROM sessions s JOIN members m ON m.id = s.member_id
                WHERE s.token_hash = ? AND NOT m.disabled
                """, tokenHash
            ).map(SQLStoreAccounts.member)
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await write { tx in
            try tx.execute("DELETE FROM sessions WHERE token_hash = ?", tokenHash)
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

    public func pull(for member: Member, since: Int64, limit: Int) async throws -> PullResponse {
        try await read { tx in try SQLStorePull.pull(tx, for: member, since: since, limit: limit) }
    }

    public func log(for member: Member?, since: Int64, limit: Int) async throws -> LogResponse {
        try await read { tx in try SQLStorePull.log(tx, for: member, since: since, limit: limit) }
    }
}

/// Row helpers of the accounts part.
enum SQLStoreAccounts {
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

    /// Adds the default prompts that are missing (every start; harmless when they exist).
    static func seedPrompts(_ tx: any SQLTransaction) throws {
        for prompt in Prompt.defaults {
            try tx.execute(
                "INSERT INTO prompts (id, text) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", prompt.id, prompt.text)
        }
    }
}
