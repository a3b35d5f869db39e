import Foundation
import GRDB
import ReflectionsModel

/// The embedded default store: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// Every connection runs with `synchronous=FULL`, so a push is acknowledged only after its commit is durable
/// (WAL with `NORMAL` can lose the last commits on power loss).
public final class SQLiteStore: ServerStore {
    let pool: DatabasePool

    /// Opens (or creates) the database at `path`, runs the migrations and seeds the default prompts.
    ///
    /// `durable: false` (simulations only) turns fsync off; a production server never does.
    public init(path: String, durable: Bool = true) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        try pool.write { db in
            for prompt in Prompt.defaults {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO prompts (id, text) VALUES (?, ?)", arguments: [prompt.id, prompt.text])
            }
        }
    }

    /// Closes the database; further calls fail.
    public func close() throws {
        try pool.close()
    }

    // MARK: Accounts

    public func createMember(_ member: Member, passwordHash: String, now: Int64) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM members WHERE handle = ?", arguments: [member.handle]) == true
            {
                throw ServerError(.conflict, "handle_taken", "The handle '\(member.handle)' is taken: choose another.")
            }
            try db.execute(
                sql: """
                    INSERT INTO members (id, handle, display_name, role, password_hash, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    member.id.uuidString, member.handle, member.displayName, member.role.rawValue, passwordHash, now,
                ])
        }
    }

    public func credentials(handle: String) async throws -> StoredCredentials? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM members WHERE handle = ?", arguments: [handle])
            else { return nil }
            return StoredCredentials(
                member: Self.member(row), passwordHash: row["password_hash"], disabled: row["disabled"] as Bool)
        }
    }

    public func members() async throws -> [MemberSummary] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM members ORDER BY handle").map {
                MemberSummary(member: Self.member($0), disabled: $0["disabled"], createdAt: $0["created_at"])
            }
        }
    }

    public func setRole(handle: String, role: Member.Role) async throws -> Member {
        try await pool.write { db in
            try db.execute(sql: "UPDATE members SET role = ? WHERE handle = ?", arguments: [role.rawValue, handle])
            return try Self.requireMember(db, handle: handle)
        }
    }

    public func setDisabled(handle: String, disabled: Bool) async throws -> Member {
        try await pool.write { db in
            try db.execute(sql: "UPDATE members SET disabled = ? WHERE handle = ?", arguments: [disabled, handle])
            let member = try Self.requireMember(db, handle: handle)
            if disabled {
                try db.execute(sql: "DELETE FROM sessions WHERE member_id = ?", arguments: [member.id.uuidString])
            }
            return member
        }
    }

    public func createSession(tokenHash: String, memberID: UUID, now: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO sessions (token_hash, member_id, created_at) VALUES (?, ?, ?)",
                arguments: [tokenHash, memberID.uuidString, now])
        }
    }

    public func member(tokenHash: String) async throws -> Member? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT m.* FROM sessions s JOIN members m ON m.id = s.member_id
                    WHERE s.token_hash = ? AND m.disabled = 0
                    """, arguments: [tokenHash]
            ).map(Self.member)
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [tokenHash])
        }
    }

    public func prompts() async throws -> [Prompt] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, text FROM prompts ORDER BY id").map {
                Prompt(id: $0["id"], text: $0["text"])
            }
        }
    }

    static func member(_ row: Row) -> Member {
        Member(
            id: UUID(uuidString: row["id"])!, handle: row["handle"], displayName: row["display_name"],
            role: Member.Role(rawValue: row["role"]) ?? .member)
    }

    static func requireMember(_ db: Database, handle: String) throws -> Member {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM members WHERE handle = ?", arguments: [handle]) else {
            throw ServerError.notFound("The member '\(handle)'")
        }
        return member(row)
    }
}
