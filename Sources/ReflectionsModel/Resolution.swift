import Foundation

/// How the author ends one or more conflicts on a record.
///
/// A `resolve` mutation names the conflict revisions it settles (by id), so that a revision kept after the
/// author looked stays open. Its `changes` carry the final text for ``Choice/merged``.
public struct Resolution: Codable, Hashable, Sendable {
    /// Which text the record keeps.
    public enum Choice: String, Codable, Hashable, Sendable, CaseIterable {
        /// Keep the current version; the revisions are discarded.
        case keepCurrent
        /// Make the revision named by `takenRevisionID` current.
        case takeRevision
        /// Make the text in the mutation's `changes` current.
        case merged
    }

    public var choice: Choice
    /// The conflict revisions this settles.
    public var revisionIDs: [UUID]
    /// With ``Choice/takeRevision``: the revision whose fields become current.
    public var takenRevisionID: UUID?

    public init(choice: Choice, revisionIDs: [UUID], takenRevisionID: UUID? = nil) {
        self.choice = choice
        self.revisionIDs = revisionIDs
        self.takenRevisionID = takenRevisionID
    }
}
