import Hummingbird
import NIOCore

/// A request to the page, with its connection (so that a live-updates stream ends when the browser goes away).
public struct PageContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The largest body the page reads (a form).
    public var maxUploadSize: Int { PageServer.maxFormBytes }
}
