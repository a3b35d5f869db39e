import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A TLS connection that sends exactly the bytes a test gives it, from a chosen source address (any of
/// 127.0.0.0/8), at the pace the test chooses: for per-address throttling and for slow-client attacks.
public final class RawTLSConnection: Sendable {
    let channel: any Channel
    let collector: Collector

    init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Opens a connection to `port` on 127.0.0.1 from `source`, trusting only `certificatePEM`.
    public static func open(
        port: Int, certificatePEM: String, from source: String = "127.0.0.1", tls: TLSConfiguration? = nil
    ) async throws -> RawTLSConnection {
        var configuration = tls ?? TLSConfiguration.makeClientConfiguration()
        if tls == nil {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)))
            configuration.certificateVerification = .noHostnameVerification
        }
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let collector = Collector(
            handshake: loop.makePromise(of: Void.self), closed: loop.makePromise(of: Data.self))
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(CollectingHandler(collector))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawTLSConnection(channel: channel, collector: collector)
    }

    /// Waits for the TLS handshake; throws its error (a `NIOSSLError`) if the server refused it.
    public func handshake() async throws {
        try await collector.handshake.futureResult.get()
    }

    /// Sends bytes; throws once the server has closed the connection.
    public func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Reads until the server closes the connection (or `timeout` passes, which throws) and returns what arrived.
    public func receiveAll(timeout: Duration = .seconds(30)) async throws -> Data {
        let closed = collector.closed.futureResult
        let channel = self.channel
        let timedOut = LockedBox(false)
        let timer = channel.eventLoop.scheduleTask(in: .seconds(timeout.components.seconds)) {
            timedOut.update { $0 = true }
            channel.close(promise: nil)
        }
        let data = try await closed.get()
        timer.cancel()
        if timedOut.value { throw TestFailure("no close within \(timeout)") }
        return data
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }

    /// Sends one request with `Connection: close` and returns the status and body of the answer.
    public static func exchange(
        port: Int, certificatePEM: String, from source: String, method: String, path: String, json: Data
    ) async throws -> (status: Int, body: String) {
        let connection = try await open(port: port, certificatePEM: certificatePEM, from: source)
        let request =
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(json.count)\r\nConnection: close\r\n\r\n" + String(decoding: json, as: UTF8.self)
        try await connection.send(request)
        let text = String(decoding: try await connection.receiveAll(), as: UTF8.self)
        let statusLine = text.split(separator: "\r\n", maxSplits: 1).first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestFailure("no HTTP answer: \(text)") }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    /// Where a connection's events end up.
    struct Collector: Sendable {
        let handshake: EventLoopPromise<Void>
        /// Everything received, once the connection has closed.
        let closed: EventLoopPromise<Data>
    }
}

/// Collects what arrives and completes the collector's promises; runs on the channel's event loop.
final class CollectingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let collector: RawTLSConnection.Collector
    var received = Data()

    init(_ collector: RawTLSConnection.Collector) {
        self.collector = collector
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { collector.handshake.succeed(()) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A handshake error fails the handshake; one after it (a reset once the answer is in) changes nothing.
        collector.handshake.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        collector.handshake.fail(ChannelError.ioOnClosedChannel)
        collector.closed.succeed(received)
        context.fireChannelInactive()
    }
}
