import Foundation

/// The body of `POST /v1/accounts`.
public struct RegisterRequest: Codable, Hashable, Sendable {
    public var handle: String
    public var displayName: String?
    public var password: String

    public init(handle: String, displayName: String? = nil, password: String) {
        self.handle = handle
        self.displayName = displayName
        self.password = password
    }
}

/// The body of `PATCH /v1/me`: what a member changes about their account (today, their display name).
public struct AccountUpdate: Codable, Hashable, Sendable {
    public var displayName: String?

    public init(displayName: String? = nil) {
        self.displayName = displayName
    }
}

/// The body of `POST /v1/sessions`.
public struct LoginRequest: Codable, Hashable, Sendable {
    public var handle: String
    public var password: String

    public init(handle: String, password: String) {
        self.handle = handle
        self.password = password
    }
}

/// The answer to a login: an opaque bearer token and who it belongs to.
public struct SessionResponse: Codable, Hashable, Sendable {
    public var token: String
    public var member: Member

    public init(token: String, member: Member) {
        self.token = token
        self.member = member
    }
}

/// The answer to `GET /v1/prompts`.
public struct PromptsResponse: Codable, Hashable, Sendable {
    public var prompts: [Prompt]
    public init(prompts: [Prompt]) { self.prompts = prompts }
}

/// One entry of a member's server-side change log (`GET /v1/log`).
public struct LogEntry: Codable, Hashable, Sendable {
    public var sequence: Int64
    public var entity: EntityKind
    public var recordID: UUID
    public var clientID: UUID?
    public var mutationID: UUID?
    public var operation: String
    public var outcome: String
    /// Milliseconds since 1970.
    public var at: Int64

    public init(
        sequence: Int64, entity: EntityKind, recordID: UUID, clientID: UUID?, mutationID: UUID?, operation: String,
        outcome: String, at: Int64
    ) {
        self.sequence = sequence
        self.entity = entity
        self.recordID = recordID
        self.clientID = clientID
        self.mutationID = mutationID
        self.operation = operation
        self.outcome = outcome
        self.at = at
    }
}

/// The answer to `GET /v1/log`.
public struct LogResponse: Codable, Hashable, Sendable {
    public var entries: [LogEntry]
    public var nextCursor: Int64
    public var hasMore: Bool

    public init(entries: [LogEntry], nextCursor: Int64, hasMore: Bool) {
        self.entries = entries
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }
}
