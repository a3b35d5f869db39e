import NIOCore
import NIOHTTPTypes

/// Cuts off a client that sends a request too slowly, so that dripping bytes cannot pin a connection for ever.
///
/// - **Headers**: the first request's head must arrive within ``headerTimeout`` of the connection opening (TLS
///   handshake included). A later request on the same connection is bounded by the idle timeout, which
///   Hummingbird counts from the previous response and which bytes of an unfinished head do not reset.
/// - **Whole request**: once its head has arrived, a request's body must end within ``requestTimeout``, however
///   steadily its bytes drip (the idle timeout alone would be reset by every byte) — plus one second for every
///   ``minimumBytesPerSecond`` bytes that did arrive, so that a large push over a slow ward connection (4 MiB at
///   16 KiB/s is 256 s) is not cut off, while a drip earns next to nothing.
///
/// On either deadline the connection is closed; nothing of a request that did not arrive whole is applied (a
/// push is decoded only once its body is complete).
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The body rate that earns extra time (see the type's documentation).
    static let minimumBytesPerSecond = 16 * 1024

    let headerTimeout: TimeAmount
    let requestTimeout: TimeAmount
    private var headerDeadline: Scheduled<Void>?
    private var requestDeadline: Scheduled<Void>?
    private var sawFirstHead = false
    /// When the current request's head arrived, and how many body bytes have arrived since.
    private var requestStarted = NIODeadline.now()
    private var bodyBytes = 0

    init(headerTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armHeaderDeadline(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armHeaderDeadline(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            sawFirstHead = true
            headerDeadline?.cancel()
            headerDeadline = nil
            requestDeadline?.cancel()
            requestStarted = .now()
            bodyBytes = 0
            scheduleRequestDeadline(context)
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            requestDeadline?.cancel()
            requestDeadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
    }

    private func armHeaderDeadline(_ context: ChannelHandlerContext) {
        guard !sawFirstHead, headerDeadline == nil else { return }
        headerDeadline = schedule(context, in: headerTimeout)
    }

    /// The request deadline, moved on by the time its body bytes earned; closes the connection once it passes.
    private func scheduleRequestDeadline(_ context: ChannelHandlerContext) {
        let earned = TimeAmount.milliseconds(Int64(bodyBytes) * 1000 / Int64(Self.minimumBytesPerSecond))
        let deadline = requestStarted + requestTimeout + earned
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        requestDeadline = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            let now = NIODeadline.now()
            let earnedNow = TimeAmount.milliseconds(
                Int64(handler.bodyBytes) * 1000 / Int64(Self.minimumBytesPerSecond))
            if handler.requestStarted + handler.requestTimeout + earnedNow > now {
                handler.scheduleRequestDeadline(context)
            } else {
                context.close(promise: nil)
            }
        }
    }

    private func schedule(_ context: ChannelHandlerContext, in delay: TimeAmount) -> Scheduled<Void> {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: delay) {
            loopBound.value.close(promise: nil)
        }
    }

    private func cancel() {
        headerDeadline?.cancel()
        requestDeadline?.cancel()
        headerDeadline = nil
        requestDeadline = nil
    }
}
