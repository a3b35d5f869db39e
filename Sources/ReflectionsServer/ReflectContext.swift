import Hummingbird
import NIOCore

/// The request context of reflectd's router.
public struct ReflectContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Where the request comes from, for per-address login throttling (see ``throttleKey(_:)``).
    public var sourceAddress: String
    /// The connection, so that a change stream can drop a reader that stopped reading.
    public var channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
        sourceAddress = Self.throttleKey(source.channel.remoteAddress)
    }

    /// The largest body any route reads (a push); other routes read less (see ``SyncAPI``).
    public var maxUploadSize: Int { 4 * 1024 * 1024 }

    /// The address a login attempt is counted under: an IPv4 address whole, an IPv6 address by its /64 prefix
    /// (one host usually holds a whole /64, so counting single IPv6 addresses would give it 2^64 tries).
    static func throttleKey(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        switch address {
        case .v4:
            return address.ipAddress ?? "unknown"
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return bytes[12..<16].map(String.init).joined(separator: ".")
            }
            let groups = stride(from: 0, to: 8, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
            }
            return groups.joined(separator: ":") + "::/64"
        case .unixDomainSocket:
            return "local"
        }
    }
}
