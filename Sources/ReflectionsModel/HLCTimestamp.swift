/// A hybrid logical clock reading: wall-clock milliseconds, a counter for events within one millisecond (or
/// while the wall clock lags behind), and the node that made it.
///
/// Readings are totally ordered by (`physical`, `counter`, `node`).
public struct HLCTimestamp: Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970, as the node's clock (or a later reading it saw) said.
    public var physical: Int64
    /// Orders readings that share `physical`.
    public var counter: UInt32
    /// The node (device) that made the reading.
    public var node: String

    public init(physical: Int64, counter: UInt32 = 0, node: String) {
        self.physical = physical
        self.counter = counter
        self.node = node
    }

    /// The smallest reading.
    public static let zero = HLCTimestamp(physical: 0, counter: 0, node: "")

    public static func < (a: HLCTimestamp, b: HLCTimestamp) -> Bool {
        (a.physical, a.counter, a.node) < (b.physical, b.counter, b.node)
    }

    public var description: String { "\(physical).\(counter)@\(node)" }
}
