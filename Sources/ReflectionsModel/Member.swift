import Foundation

/// A member of the community.
public struct Member: Codable, Hashable, Sendable, Identifiable {
    /// What a member may do beyond writing their own reflections and comments.
    public enum Role: String, Codable, Hashable, Sendable, CaseIterable {
        /// Writes reflections and comments.
        case member
        /// Can also hide other members' comments.
        case moderator
    }

    public var id: UUID
    /// The unique login name (see ``Validation/handle(_:)``).
    public var handle: String
    /// The name shown beside what the member writes.
    public var displayName: String
    public var role: Role

    public init(id: UUID, handle: String, displayName: String, role: Role = .member) {
        self.id = id
        self.handle = handle
        self.displayName = displayName
        self.role = role
    }
}
