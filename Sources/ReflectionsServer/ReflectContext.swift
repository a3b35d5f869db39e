import Hummingbird

/// The request context of reflectd's router.
public struct ReflectContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The largest body any route reads (a push); other routes read less (see ``SyncAPI``).
    public var maxUploadSize: Int { 4 * 1024 * 1024 }
}
