import Hummingbird

/// The request context of reflectd's router.
public struct ReflectContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address ("unknown" when the channel has none), for per-address login throttling.
    public var sourceAddress: String

    public init(source: Source) {
        coreContext = .init(source: source)
        sourceAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The largest body any route reads (a push); other routes read less (see ``SyncAPI``).
    public var maxUploadSize: Int { 4 * 1024 * 1024 }
}
