import Foundation
import ReflectionsModel

/// How the client decides to trust the server's certificate: never "accept any certificate".
public enum ServerTrust: Sendable, Hashable, Codable {
    /// Trust only the certificates in this PEM file (a CA or the server's own certificate).
    case caFile(String)
    /// Trust only the certificate whose SHA-256 is this pin; its PEM was fetched and checked at `init`.
    case pinned(fingerprint: String, certificatePEM: String)
}

/// What `reflect init` and `reflect login` stored in a client home.
public struct ClientSettings: Sendable {
    public var serverURL: String?
    public var trust: ServerTrust?
    /// This device's id, made at `init` and never changed.
    public var clientID: UUID?
    public var token: String?
    public var member: Member?
    /// The pull cursor: the server sequence number everything up to which has been applied.
    public var cursor: Int64
    public var lastHLC: HLCTimestamp?
    /// The name the member gave this device (`reflect init --device-name`), if any.
    public var deviceName: String? = nil
    /// The server database's epoch at the last sync (``PullResponse/epoch``): a different one means the server
    /// was restored from a backup, and the next sync resyncs.
    public var epoch: String? = nil

    public var isInitialized: Bool { serverURL != nil && clientID != nil }
}
