/// A hybrid logical clock (Kulkarni et al., 2014).
///
/// Its readings never go backwards, whatever the wall clock does: when the wall clock jumps back, or another
/// node's clock is days ahead, the clock keeps its last physical time and counts up instead. When the wall
/// clock catches up, readings follow it again.
///
/// The clock is a value: the caller passes the wall-clock time in, so tests fix it, and stores ``last`` to keep
/// monotonicity across restarts.
///
/// ```swift
/// var clock = HybridLogicalClock(node: "laptop")
/// let a = clock.tick(now: 1_000)     // 1000.0@laptop
/// let b = clock.tick(now: 900)       // 1000.1@laptop: the wall clock went back, the reading did not
/// ```
public struct HybridLogicalClock: Sendable, Hashable {
    /// The node's name, written into each reading.
    public let node: String
    /// The latest reading made or observed.
    public private(set) var last: HLCTimestamp

    public init(node: String, last: HLCTimestamp? = nil) {
        self.node = node
        self.last = last ?? HLCTimestamp(physical: 0, counter: 0, node: node)
    }

    /// A new reading for a local event at wall-clock time `now` (milliseconds since 1970).
    public mutating func tick(now: Int64) -> HLCTimestamp {
        if now > last.physical {
            last = HLCTimestamp(physical: now, counter: 0, node: node)
        } else {
            last = Self.bumped(physical: last.physical, counter: last.counter, node: node)
        }
        return last
    }

    /// A new reading after receiving `remote` from another node at wall-clock time `now`.
    public mutating func observe(_ remote: HLCTimestamp, now: Int64) -> HLCTimestamp {
        let physical = max(now, last.physical, remote.physical)
        if physical == now && now > last.physical && now > remote.physical {
            last = HLCTimestamp(physical: physical, counter: 0, node: node)
        } else {
            var counter: UInt32 = 0
            if physical == last.physical { counter = max(counter, last.counter) }
            if physical == remote.physical { counter = max(counter, remote.counter) }
            last = Self.bumped(physical: physical, counter: counter, node: node)
        }
        return last
    }

    /// The reading after (physical, counter): the counter plus one, or the next millisecond if it would overflow.
    private static func bumped(physical: Int64, counter: UInt32, node: String) -> HLCTimestamp {
        if counter == UInt32.max {
            return HLCTimestamp(physical: physical + 1, counter: 0, node: node)
        }
        return HLCTimestamp(physical: physical, counter: counter + 1, node: node)
    }
}
