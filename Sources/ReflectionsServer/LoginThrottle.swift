import Foundation

/// Slows down password guessing: after ``freeFailures`` failed logins for one handle, each further attempt
/// must wait, doubling from 1 s up to 15 minutes. A success clears the count.
///
/// The counts live in the store (`login_failures`), not in the process, so that every server behind one
/// database throttles together; this type is only the policy.
enum LoginThrottle {
    static let freeFailures: Int64 = 5
    static let maxDelayMillis: Int64 = 15 * 60 * 1000
    /// A handle's count is forgotten a day after its last failure (bounds the table under a spray of handles).
    static let forgetAfterMillis: Int64 = 24 * 60 * 60 * 1000

    /// Until when a handle with `failures` failed logins, the last at `now`, must wait.
    static func lockedUntil(failures: Int64, now: Int64) -> Int64 {
        guard failures >= freeFailures else { return 0 }
        let exponent = min(failures - freeFailures, 20)
        return now + min(maxDelayMillis, 1000 << exponent)
    }
}
