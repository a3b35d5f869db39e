import Foundation

/// Slows down password guessing: after ``freeFailures`` attempts for one handle from one source address that did
/// not succeed, each further attempt must wait, doubling from 1 s up to 15 minutes. A success clears the count.
///
/// An attempt is counted when it starts, before the password is checked, so that attempts in flight count: a
/// burst of parallel guesses gets ``freeFailures`` checks, not one per request. Counting per handle *and* source
/// address means that guesses from one address cannot lock the member out from another (the member's own
/// device keeps logging in while a stranger is throttled); a stranger with many addresses gets
/// ``freeFailures`` guesses per address and then waits, each address for itself.
///
/// The counts live in the store (`login_attempts`), not in the process, so that every server behind one
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
