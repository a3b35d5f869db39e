import Synchronization

/// Tells waiting watch loops that the server was just reached (another sync of the same home got through), so
/// that a loop sleeping out its backoff reconnects now instead of up to a minute later.
public final class SyncNudge: Sendable {
    private let waiting = Mutex<[Int: CheckedContinuation<Void, Never>]>([:])
    private let next = Atomic<Int>(0)

    public init() {}

    /// Wakes every loop waiting in ``wait(upTo:)``.
    public func nudge() {
        let woken = waiting.withLock { waiting in
            defer { waiting = [:] }
            return Array(waiting.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Waits `duration`, or less if ``nudge()`` is called meanwhile; returns at once when cancelled.
    public func wait(upTo duration: Duration) async {
        let id = next.add(1, ordering: .relaxed).newValue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: duration)
            }
            group.addTask { [self] in
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = waiting.withLock { waiting -> Bool in
                            if Task.isCancelled { return true }
                            waiting[id] = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    waiting.withLock { $0.removeValue(forKey: id) }?.resume()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
