/// What the server did with one pushed mutation.
public enum MutationOutcome: String, Codable, Hashable, Sendable, CaseIterable {
    /// Applied as sent (no concurrent change).
    case applied
    /// Merged cleanly with concurrent changes.
    case merged
    /// A true conflict: the current version stayed, the mutation was kept whole as a conflict revision (or, for
    /// an edit and a delete, the edit survived and the record is flagged).
    case conflict
    /// Refused; see the result's `code` and `reason`. Nothing was written.
    case rejected
    /// Seen before: nothing changed, and the result repeats the first outcome in `originalOutcome`.
    case duplicate
}
