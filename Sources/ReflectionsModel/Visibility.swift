/// Who may read a reflection.
public enum Visibility: String, Codable, Hashable, Sendable, CaseIterable {
    /// Only its author, on any of their devices.
    case `private`
    /// Every member of the community; members may comment on it.
    case community

    /// The visibility two concurrent changes merge to: `private` wins, so that no writing is ever exposed by
    /// accident.
    public static func merged(_ a: Visibility, _ b: Visibility) -> Visibility {
        a == .private || b == .private ? .private : .community
    }
}
