import Crypto
import Foundation
import _CryptoExtras

/// Hashes and checks passwords with scrypt (swift-crypto's `_CryptoExtras`).
///
/// Stored form: `scrypt$N$r$p$SALT$HASH` (salt and hash in base64). The default parameters are N = 2^15,
/// r = 8, p = 1: 32 MiB and about 0.1 s per hash on a 2-core machine, the interactive-login cost that RFC 7914
/// suggests. At most ``maxConcurrentHashes`` hashes run at once, so a burst of logins cannot starve sync of CPU
/// and memory; the rest wait their turn. Tests use cheaper parameters through ``Parameters``.
public struct PasswordHasher: Sendable {
    /// The scrypt cost parameters.
    public struct Parameters: Sendable, Hashable {
        public var rounds: Int
        public var blockSize: Int
        public var parallelism: Int

        public init(rounds: Int, blockSize: Int, parallelism: Int) {
            self.rounds = rounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// The production parameters: N = 2^15, r = 8, p = 1.
        public static let standard = Parameters(rounds: 1 << 15, blockSize: 8, parallelism: 1)
        /// Cheap parameters for tests only: N = 2^10.
        public static let fastForTests = Parameters(rounds: 1 << 10, blockSize: 8, parallelism: 1)
    }

    /// How many hashes may run at once.
    public static let maxConcurrentHashes = 2

    public let parameters: Parameters
    private let gate = AsyncGate(permits: PasswordHasher.maxConcurrentHashes)

    public init(parameters: Parameters = .standard) {
        self.parameters = parameters
    }

    /// The stored form of a new hash of `password`, with a fresh 16-byte salt.
    public func hash(_ password: String) async throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &rng) }
        let derived = try await derive(password, salt: salt, parameters: parameters)
        let p = parameters
        return
            "scrypt$\(p.rounds)$\(p.blockSize)$\(p.parallelism)$\(Data(salt).base64EncodedString())$\(derived.base64EncodedString())"
    }

    /// Whether `password` matches a stored hash (compared in constant time).
    public func verify(_ password: String, against stored: String) async throws -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]),
            let p = Int(parts[3]),
            let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5])
        else { return false }
        let derived = try await derive(
            password, salt: [UInt8](salt), parameters: Parameters(rounds: n, blockSize: r, parallelism: p))
        return constantTimeEqual(derived, expected)
    }

    /// Runs scrypt on a Dispatch worker, not on Swift's cooperative pool (two threads here): a hash holds its
    /// thread for tens of milliseconds, which must not stall request handling.
    private func derive(_ password: String, salt: [UInt8], parameters p: Parameters) async throws -> Data {
        await gate.acquire()
        defer { Task { await gate.release() } }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let key = try KDF.Scrypt.deriveKey(
                            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: p.rounds,
                            blockSize: p.blockSize, parallelism: p.parallelism)
                        return key.withUnsafeBytes { Data($0) }
                    })
            }
        }
    }

    private func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// A counting semaphore for async code: at most `permits` holders at once; the others wait in order.
actor AsyncGate {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { available = permits }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
