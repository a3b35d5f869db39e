import Foundation

/// Slows down password guessing: after ``freeFailures`` failed logins for one handle, each further attempt
/// must wait, doubling from 1 s up to 15 minutes. A success clears the count.
actor LoginThrottle {
    static let freeFailures = 5
    static let maxDelayMillis: Int64 = 15 * 60 * 1000

    private var failures: [String: (count: Int, lockedUntil: Int64)] = [:]

    /// Milliseconds to wait before another attempt for `handle`, or 0.
    func wait(for handle: String, now: Int64) -> Int64 {
        guard let entry = failures[handle] else { return 0 }
        return max(0, entry.lockedUntil - now)
    }

    func recordFailure(for handle: String, now: Int64) {
        var entry = failures[handle] ?? (0, 0)
        entry.count += 1
        if entry.count >= Self.freeFailures {
            let exponent = min(entry.count - Self.freeFailures, 20)
            entry.lockedUntil = now + min(Self.maxDelayMillis, 1000 << exponent)
        }
        failures[handle] = entry
        if failures.count > 100_000 { failures.removeAll() }  // bound memory under a spray of handles
    }

    func recordSuccess(for handle: String) {
        failures[handle] = nil
    }
}
