import Foundation
import ReflectionsClient
import ReflectionsFiles
import ReflectionsModel
import Synchronization

/// The real-time steps: how soon a change reaches a watching device, and what idle change streams cost the server.
extension ReflectBench {
    /// Device `writer` writes and pushes `count` reflections one at a time while `watcher` (another device of the
    /// same member) runs ``SyncWatcher``; each latency is from the start of the push to the record being in the
    /// watcher's store (polled every millisecond).
    func liveLatency(writer: BenchDevice, watcher: BenchDevice, count: Int) async throws -> [String: Double] {
        let loop = SyncWatcher(engine: watcher.engine, connection: watcher.connection)
        let live = Mutex(false)
        let task = Task { try await loop.run { update in if case .live = update { live.withLock { $0 = true } } } }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(30)
        while !live.withLock({ $0 }) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        var latencies: [Double] = []
        var missed = 0
        for i in 0..<count {
            let id = UUID()
            _ = try writer.store.write(title: "Live \(i)", body: "Written just now.\n", id: id)
            let start = ContinuousClock.now
            try await writer.engine.pushOnly()
            var arrived = false
            while ContinuousClock.now - start < .seconds(5) {
                if (try? watcher.store.reflection(id: id)) != nil {
                    arrived = true
                    break
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            if arrived {
                let elapsed = ContinuousClock.now - start
                latencies.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            } else {
                missed += 1
            }
        }
        task.cancel()
        _ = await task.result
        return [
            "p50_ms": Stats.percentile(latencies, 50) * 1000, "p99_ms": Stats.percentile(latencies, 99) * 1000,
            "changes": Double(count), "missed": Double(missed),
        ]
    }

    /// Opens `count` change streams (8 per member, the default limit, so `count / 8` members) and reads the
    /// server's resident memory before, with them open and idle for a few seconds, and after closing them.
    func idleStreams(trust: ServerTrust, tag: String, password: String, count: Int) async throws -> [String: Double]? {
        guard let pid = serverPID, let before = Stats.residentMemoryMiB(pid: pid) else { return nil }
        FileDescriptorLimit.raiseToHardLimit()
        let perMember = Limits.eventStreamsPerMemberDefault
        var tokens: [String] = []
        let connection = try ServerConnection(serverURL: server, trust: trust)
        defer { Task { try? await connection.shutdown() } }
        for m in 0..<(count + perMember - 1) / perMember {
            let handle = "s\(m)-\(tag)"
            _ = try await connection.register(handle: handle, password: password, displayName: nil)
            let token = try await connection.login(handle: handle, password: password).token
            tokens += Array(repeating: token, count: min(perMember, count - m * perMember))
        }
        final class Tally: Sendable {
            let opened = Mutex(0)
            let failed = Mutex<String?>(nil)
        }
        let tally = Tally()
        let holders = tokens.map { token in
            Task { [tally] in
                do {
                    for try await event in connection.changeEvents(since: 0, token: token) {
                        if case .connected = event { tally.opened.withLock { $0 += 1 } }
                    }
                } catch is CancellationError {
                } catch {
                    tally.failed.withLock { $0 = $0 ?? "\(error)" }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while tally.opened.withLock({ $0 }) < count && ContinuousClock.now < deadline
            && tally.failed.withLock({ $0 }) == nil
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .seconds(5))
        let open = Double(tally.opened.withLock { $0 })
        let held = Stats.residentMemoryMiB(pid: pid) ?? 0
        for holder in holders { holder.cancel() }
        for holder in holders { _ = await holder.result }
        try await Task.sleep(for: .seconds(3))
        let after = Stats.residentMemoryMiB(pid: pid) ?? 0
        if let error = tally.failed.withLock({ $0 }) {
            FileHandle.standardError.write(Data("idle streams: \(error)\n".utf8))
        }
        return [
            "streams": open, "rss_before_mib": before, "rss_open_mib": held, "rss_after_close_mib": after,
            "kib_per_stream": open > 0 ? (held - before) * 1024 / open : 0,
        ]
    }
}
