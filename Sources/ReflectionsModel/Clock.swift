import Foundation

/// Where the current time comes from, so that tests can fix it.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Int64

    /// A clock that reads `read()` (milliseconds since 1970).
    public init(_ read: @escaping @Sendable () -> Int64) { self.read = read }

    /// Milliseconds since 1970, now.
    public func now() -> Int64 { read() }

    /// The system clock.
    public static let system = WallClock { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// A clock that always reads `millis`.
    public static func fixed(_ millis: Int64) -> WallClock { WallClock { millis } }
}
