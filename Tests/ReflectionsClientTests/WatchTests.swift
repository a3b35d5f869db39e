import Foundation
import ReflectionsClient
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Synchronization
import Testing

/// ``SyncWatcher`` (the loop of `reflect sync --watch`) against a real server: changes arrive as they happen,
/// local writes leave within a second, and a server restart loses nothing.
@Suite struct WatchTests {
    static let events = EventHub.Configuration(heartbeat: .milliseconds(500))

    /// A watcher running in the background, with what it reported.
    final class Watching: Sendable {
        let updates = Mutex<[SyncWatcher.Update]>([])
        let outcome = Mutex<(any Error)?>(nil)
        let finished = Mutex(false)
        let task = Mutex<Task<Void, Never>?>(nil)

        init(_ device: Device) {
            var watcher = SyncWatcher(
                engine: SyncEngine(store: device.store, transport: device.connection), connection: device.connection)
            watcher.localPoll = .milliseconds(100)
            watcher.firstRetry = .milliseconds(200)
            watcher.retryCeiling = .seconds(1)
            let running = Task { [watcher] in
                do {
                    try await watcher.run { update in self.updates.withLock { $0.append(update) } }
                } catch {
                    self.outcome.withLock { $0 = error }
                }
                self.finished.withLock { $0 = true }
            }
            task.withLock { $0 = running }
        }

        var liveCount: Int { updates.withLock { $0.filter { if case .live = $0 { true } else { false } }.count } }
        var offlineCount: Int {
            updates.withLock { $0.filter { if case .offline = $0 { true } else { false } }.count }
        }

        func stop() async {
            let running = task.withLock { $0 }
            running?.cancel()
            await running?.value
        }
    }

    /// Polls `condition` every 50 ms for up to `timeout`.
    static func eventually(within timeout: Duration = .seconds(10), _ condition: () async throws -> Bool)
        async rethrows -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    static func holds(_ device: Device, _ id: UUID) -> Bool {
        (try? device.store.reflection(id: id)) != nil
    }

    @Test func changesArriveAndLocalWritesLeaveWithoutAnyoneTypingSync() async throws {
        let server = try await LiveServer.start(events: Self.events)
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        let watching = Watching(phone)
        #expect(await Self.eventually { watching.liveCount == 1 })

        // Written and synced on the laptop: on the phone without a sync there.
        let fromLaptop = try laptop.store.write(title: "On the ward", body: "Written on the laptop.\n")
        try await laptop.sync()
        #expect(await Self.eventually(within: .seconds(5)) { Self.holds(phone, fromLaptop.id) })

        // Written on the phone: sent by the watcher, so the laptop's next sync has it.
        let fromPhone = try phone.store.write(title: "On the train", body: "Written on the phone.\n")
        #expect(
            try await Self.eventually(within: .seconds(5)) {
                try await laptop.sync()
                return Self.holds(laptop, fromPhone.id)
            })
        // The phone records the push's answer just after the server has it (the laptop may see it first).
        #expect(await Self.eventually { (try? phone.store.status().pendingMutations) == 0 })
        #expect(watching.offlineCount == 0)

        await watching.stop()
        #expect(watching.finished.withLock { $0 })
        #expect(watching.outcome.withLock { $0 } == nil)
        for device in [laptop, phone] { try await device.close() }
        try await server.stop()
    }

    @Test func aWatchSurvivesAServerRestartAndDeliversWhatWasWrittenMeanwhile() async throws {
        var server = try await LiveServer.start(events: Self.events)
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        let watching = Watching(phone)
        #expect(await Self.eventually { watching.liveCount == 1 })

        try await server.stop()
        #expect(await Self.eventually { watching.offlineCount >= 1 })
        // Written while the server is away: kept on the phone.
        let offline = try phone.store.write(title: "No signal", body: "Words from the tunnel.\n")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try phone.store.status().pendingMutations == 1)

        server = try await LiveServer.start(
            dataDirectory: server.dataDirectory, port: server.port, database: server.database, events: Self.events)
        #expect(await Self.eventually { watching.liveCount >= 2 })
        #expect(
            try await Self.eventually(within: .seconds(5)) {
                try await laptop.sync()
                return Self.holds(laptop, offline.id)
            })

        // And the other way, after the restart.
        let after = try laptop.store.write(title: "Back", body: "The server is back.\n")
        try await laptop.sync()
        #expect(await Self.eventually(within: .seconds(5)) { Self.holds(phone, after.id) })

        await watching.stop()
        #expect(watching.outcome.withLock { $0 } == nil)
        for device in [laptop, phone] { try await device.close() }
        try await server.stop()
    }

    /// A watch loop waiting out a long backoff reconnects as soon as another sync of the same home reached the
    /// server (the page's "Sync now" after the network came back), not a minute later.
    @Test func aSyncThatReachedTheServerEndsTheWatchLoopsBackoff() async throws {
        var server = try await LiveServer.start(events: Self.events)
        let phone = try await Device.make(server, handle: "amara", register: true)
        try await server.stop()
        var watcher = try phone.client.watcher()
        watcher.firstRetry = .seconds(120)
        let updates = Mutex<[String]>([])
        let running = Task { [watcher] in
            try? await watcher.run { update in
                updates.withLock {
                    switch update {
                    case .live: $0.append("live")
                    case .offline: $0.append("offline")
                    case .synced: $0.append("synced")
                    }
                }
            }
        }
        #expect(await Self.eventually { updates.withLock { $0.contains("offline") } })
        server = try await LiveServer.start(
            dataDirectory: server.dataDirectory, port: server.port, database: server.database, events: Self.events)
        _ = try await phone.client.sync()
        #expect(await Self.eventually(within: .seconds(10)) { updates.withLock { $0.contains("live") } })
        running.cancel()
        await running.value
        try await phone.close()
        try await server.stop()
    }

    /// Stopped at any moment of its first sync (300 writes to send), then synced again: everything arrives once.
    @Test func aWatchStoppedMidSyncLosesAndDuplicatesNothing() async throws {
        let server = try await LiveServer.start(events: Self.events)
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        var ids: Set<UUID> = []
        for n in 0..<300 { ids.insert(try phone.store.write(title: "Offline \(n)", body: "Words \(n).\n").id) }
        for delay in [5, 30, 80] {
            let watching = Watching(phone)
            try await Task.sleep(for: .milliseconds(delay))
            await watching.stop()
            #expect(watching.outcome.withLock { $0 } == nil)
        }
        try await phone.sync()
        try await laptop.sync()
        #expect(Set(try laptop.store.reflections().map(\.reflection.id)) == ids)
        #expect(try laptop.store.reflections().count == 300)
        let log = try await laptop.connection.serverLog(
            token: try laptop.store.settings().token!, since: 0, limit: 1000)
        #expect(log.entries.count == 300)
        for device in [laptop, phone] { try await device.close() }
        try await server.stop()
    }

    @Test func aWatchStopsWhenTheSessionEnds() async throws {
        let server = try await LiveServer.start(events: Self.events)
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        let watching = Watching(phone)
        #expect(await Self.eventually { watching.liveCount == 1 })
        try await laptop.connection.logout(token: try laptop.store.settings().token!, everywhere: true)
        #expect(await Self.eventually(within: .seconds(5)) { watching.finished.withLock { $0 } })
        let error = watching.outcome.withLock { $0 } as? ClientError
        #expect(error?.code == .notLoggedIn)
        for device in [laptop, phone] { try await device.close() }
        try await server.stop()
    }

    /// The real `reflect sync --watch`: a write in "another terminal" leaves within a second, another device's
    /// change arrives, Ctrl-C stops it cleanly (exit 0), and `--json` prints one JSON object per line.
    @Test func reflectSyncWatchAtTheCommandLine() async throws {
        let server = try await LiveServer.start(events: Self.events)
        let home = try await CLIHome.initialized(for: server)
        let registered = try await home.run(
            ["register", "--user", "amara", "--password-stdin"], stdin: "a long enough password\n")
        #expect(registered.status == 0, "\(registered.stderr)")
        let laptop = try await Device.make(server, handle: "amara", register: false)

        let watch = try CLIRunner.start("reflect", ["--home", home.path, "sync", "--watch"])
        #expect(await watch.waitFor("connected: changes arrive as they happen"), "\(watch.stdout)\(watch.stderr)")
        let written = try await home.run(
            ["write", "--title", "From the other terminal", "--file", "-"], stdin: "Hi.\n")
        #expect(written.status == 0, "\(written.stderr)")
        #expect(await watch.waitFor("synced: sent 1, received 0."), "\(watch.stdout)")
        _ = try laptop.store.write(title: "From the laptop", body: "Hello.\n")
        try await laptop.sync()
        #expect(await watch.waitFor("synced: sent 0, received 1."), "\(watch.stdout)")
        #expect(await watch.stop(SIGINT) == 0)
        #expect(watch.stdout.hasSuffix("stopped.\n"))
        #expect(try await home.run(["list"]).stdout.contains("From the laptop"))

        let json = try CLIRunner.start("reflect", ["--home", home.path, "sync", "--watch", "--json"])
        #expect(await json.waitFor("\"event\":\"live\""), "\(json.stdout)\(json.stderr)")
        #expect(await json.stop(SIGTERM) == 0)
        let lines = json.stdout.split(separator: "\n")
        let events = try lines.map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["event"] as? String
        }
        #expect(events.first == "synced")
        #expect(events.contains("live"))
        #expect(events.last == "stopped")

        try await laptop.close()
        try await server.stop()
    }
}
