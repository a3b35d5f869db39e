import Foundation

/// The outcome of one pushed mutation, in the order of the push.
public struct MutationResult: Codable, Hashable, Sendable {
    public var mutationID: UUID
    public var outcome: MutationOutcome
    /// For ``MutationOutcome/duplicate``: the outcome the mutation had the first time.
    public var originalOutcome: MutationOutcome?
    /// The record's server version after the mutation (absent when rejected).
    public var version: Int64?
    /// The change-log sequence number the mutation was given (absent when rejected).
    public var sequence: Int64?
    /// For a rejection: a stable code, such as `not_found` or `validation.title_too_long`.
    public var code: String?
    /// For a rejection: what is wrong, for a person.
    public var reason: String?

    public init(
        mutationID: UUID, outcome: MutationOutcome, originalOutcome: MutationOutcome? = nil, version: Int64? = nil,
        sequence: Int64? = nil, code: String? = nil, reason: String? = nil
    ) {
        self.mutationID = mutationID
        self.outcome = outcome
        self.originalOutcome = originalOutcome
        self.version = version
        self.sequence = sequence
        self.code = code
        self.reason = reason
    }

    /// The outcome that counts: the original one for a duplicate.
    public var effectiveOutcome: MutationOutcome { outcome == .duplicate ? (originalOutcome ?? .applied) : outcome }
}
