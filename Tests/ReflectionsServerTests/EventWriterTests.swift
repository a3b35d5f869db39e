import HTTPTypes
import Hummingbird
import NIOCore
import NIOEmbedded
import Testing

@testable import ReflectionsServer

/// A change stream's reader that takes nothing is dropped: a write that has not gone through within the write
/// timeout closes the connection (events are too small for a real socket to fill in a test's time).
@Suite struct EventWriterTests {
    /// A response body whose writes never complete, as when the reader's connection takes no more bytes.
    struct StalledWriter: ResponseBodyWriter {
        mutating func write(_ buffer: ByteBuffer) async throws {
            try await Task.sleep(for: .seconds(3600))
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    /// A response body that takes every write at once.
    struct ReadyWriter: ResponseBodyWriter {
        mutating func write(_ buffer: ByteBuffer) async throws {}
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    @Test func aWriteThatDoesNotGoThroughInTimeClosesTheConnection() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        let writing = Task {
            var writer = EventWriter(writer: StalledWriter(), channel: channel, timeout: .seconds(10))
            try await writer.send(comment: "heartbeat")
        }
        try await Task.sleep(for: .milliseconds(200))
        await channel.testingEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        await channel.testingEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        writing.cancel()
    }

    @Test func writesThatGoThroughLeaveTheConnectionOpen() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        var writer = EventWriter(writer: ReadyWriter(), channel: channel, timeout: .seconds(10))
        for _ in 0..<3 { try await writer.send(comment: "heartbeat") }
        await channel.testingEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        try await channel.close()
    }
}
