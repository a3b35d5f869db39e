/// Facts about the sync protocol that both sides must agree on.
public enum SyncProtocol {
    /// The version of the wire format; every request and response body carries it.
    public static let version = 1
}
