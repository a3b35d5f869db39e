/// The kinds of record that sync.
public enum EntityKind: String, Codable, Hashable, Sendable, CaseIterable {
    case reflection
    case comment
}
