import ArgumentParser
import Foundation
import GRDB
import ReflectionsClient
import ReflectionsModel
import Synchronization

/// Measures sync on the standard workload against a running reflectd. `Scripts/bench.sh` builds it in release
/// mode, starts a fresh server per size and runs it; figures are printed as a table and as one JSON line each.
@main
struct ReflectBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reflect-bench", abstract: "Benchmark sync on the standard workload (see BENCHMARKS.md).")

    @Option(help: "The server, https://HOST:PORT.") var server: String
    @Option(help: "The server certificate's pin (sha256:HEX).") var pin: String
    @Option(help: "Number of records (half reflections, half comments).") var n = 10_000
    @Option(help: "Workload seed.") var seed: UInt64 = 42
    @Option(help: "Members the authors are drawn from.") var members = 10
    @Option(name: .customLong("concurrency-seconds"), help: "How long the 8 concurrent clients run.")
    var concurrencySeconds = 30
    @Option(name: .customLong("concurrent-clients"), help: "How many clients push and pull at once.")
    var concurrentClients = 8
    @Option(name: .customLong("server-pid"), help: "The server's process id, to read its peak memory.")
    var serverPID: Int32?
    @Option(name: .customLong("no-op-runs"), help: "How many no-op syncs to time.") var noOpRuns = 200
    @Option(help: "The handles' suffix (m0-TAG …, password 'benchmark password TAG'); random by default.")
    var tag: String?
    @Option(help: "The server's storage engine, recorded with the figures (sqlite or postgres).") var engine =
        "sqlite"
    @Option(
        name: .customLong("live-changes"), help: "Changes timed from one device's push to another's store (0: skip).")
    var liveChanges = 200
    @Option(
        name: .customLong("idle-streams"), help: "Change streams held open to measure the server's memory (0: skip).")
    var idleStreamCount = 1000
    @Option(
        name: .customLong("server-data"),
        help: "The server's data folder (SQLite): adds the compaction step (delete a fifth, compact, resync).")
    var serverData: String?

    @Flag(name: .customLong("push-only"), help: "Stop after the push step (to profile the server's push alone).")
    var pushOnly = false

    func run() async throws {
        var report = Report(n: n, engine: engine, measuresServer: serverPID != nil)
        let trust = try await Home.trust(pin: pin, serverURL: server)
        let workload = Workload(n: n, seed: seed, members: members)
        let tag = self.tag ?? String(UUID().uuidString.prefix(6)).lowercased()
        let password = "benchmark password \(tag)"
        var devices: [BenchDevice] = []
        for m in 0..<members {
            devices.append(
                try await BenchDevice.make(
                    server: server, trust: trust, handle: "m\(m)-\(tag)", password: password, register: true))
        }

        // Push: reflections, then (after each device has pulled them) comments; only push calls are timed.
        var (_, localSeconds) = try await Stats.time {
            for r in workload.reflections {
                _ = try devices[r.author].store.write(
                    title: r.title, body: r.body, visibility: r.visibility, promptID: r.prompt, id: r.id)
            }
        }
        var pushSeconds = 0.0
        // CPU used by each side during the timed pushes (the pulls between them excluded): on two cores the push
        // is bound by their sum, so the split says which side to make cheaper.
        var serverCPU = 0.0
        var clientCPU = 0.0
        func cpuDuring<T>(_ body: () async throws -> T) async rethrows -> T {
            let server = serverPID.flatMap(Stats.cpuSeconds) ?? 0
            let client = Stats.cpuSeconds(pid: ProcessInfo.processInfo.processIdentifier) ?? 0
            defer {
                serverCPU += (serverPID.flatMap(Stats.cpuSeconds) ?? 0) - server
                clientCPU += (Stats.cpuSeconds(pid: ProcessInfo.processInfo.processIdentifier) ?? 0) - client
            }
            return try await body()
        }
        for device in devices {
            let (_, seconds) = try await cpuDuring { try await Stats.time { try await device.engine.pushOnly() } }
            pushSeconds += seconds
        }
        for device in devices { try await device.engine.sync() }
        let (_, commentLocal) = try await Stats.time {
            for c in workload.comments {
                _ = try devices[c.author].store.comment(
                    on: workload.reflections[c.reflection].id, body: c.body, id: c.id)
            }
        }
        localSeconds += commentLocal
        for device in devices {
            let (counts, seconds) = try await cpuDuring {
                try await Stats.time { try await device.engine.pushOnly() }
            }
            pushSeconds += seconds
            if counts.rejected > 0 { report.notes.append("push: \(counts.rejected) rejected") }
        }
        let batchTimes = devices.flatMap { $0.transport.pushTimes.withLock { $0 } }
        report.add(
            "push",
            [
                "records_per_s": Double(n) / pushSeconds, "seconds": pushSeconds,
                "batch_p50_ms": Stats.percentile(batchTimes, 50) * 1000,
                "batch_p95_ms": Stats.percentile(batchTimes, 95) * 1000,
                "batches": Double(batchTimes.count), "local_write_records_per_s": Double(n) / localSeconds,
                "server_cpu_us_per_record": serverCPU / Double(n) * 1e6,
                "client_cpu_us_per_record": clientCPU / Double(n) * 1e6,
            ])

        if pushOnly {
            report.print()
            return
        }

        // Full pull by a fresh device of member 0.
        let reader = try await BenchDevice.make(
            server: server, trust: trust, handle: "m0-\(tag)", password: password, register: false)
        let bytesBefore = reader.connection.bytesReceived
        let (full, pullSeconds) = try await Stats.time { try await reader.engine.sync() }
        let pullBytes = reader.connection.bytesReceived - bytesBefore
        report.add(
            "pull",
            [
                "records_per_s": Double(full.pulled) / pullSeconds, "records": Double(full.pulled),
                "seconds": pullSeconds,
                "bytes": Double(pullBytes), "bytes_per_record": Double(pullBytes) / Double(max(1, full.pulled)),
            ])

        // The server's side of that pull alone: every page fetched and unzipped, nothing stored (the split shows
        // whether the server or the client's store is the next bottleneck). At N = 10,000 one download takes about
        // 0.2 s, within this machine's noise, so it runs three times: the median is the figure, with the slowest
        // and fastest beside it, and each side's CPU per record over all three.
        var rates: [Double] = []
        var downloaded = (records: 0, bytes: 0)
        let serverBefore = serverPID.flatMap(Stats.cpuSeconds) ?? 0
        let clientBefore = Stats.cpuSeconds(pid: ProcessInfo.processInfo.processIdentifier) ?? 0
        for _ in 0..<3 {
            let (once, seconds) = try await Stats.time {
                try await Self.downloadOnly(reader.connection, token: reader.store.settings().token ?? "")
            }
            downloaded = once
            rates.append(Double(once.records) / seconds)
        }
        let downloadedRecords = Double(3 * max(1, downloaded.records))
        rates.sort()
        report.add(
            "download_only",
            [
                "records_per_s": rates[1], "slowest_records_per_s": rates[0], "fastest_records_per_s": rates[2],
                "records": Double(downloaded.records), "bytes": Double(downloaded.bytes),
                "server_cpu_us_per_record": ((serverPID.flatMap(Stats.cpuSeconds) ?? 0) - serverBefore)
                    / downloadedRecords * 1e6,
                "client_cpu_us_per_record":
                    ((Stats.cpuSeconds(pid: ProcessInfo.processInfo.processIdentifier) ?? 0)
                    - clientBefore) / downloadedRecords * 1e6,
            ])

        // The real client: a `reflect sync` process of its own on a fresh home (durable, as a member runs it), its
        // time and its peak memory.
        if let figures = try await realClientPull(pin: pin, handle: "m0-\(tag)", password: password) {
            report.add("reflect_process_pull", figures)
        }

        // Edit 1% of each kind (append a sentence), then an incremental pull by the reader.
        let editedReflections = stride(from: 0, to: workload.reflections.count, by: 100).map {
            workload.reflections[$0]
        }
        let editedComments = stride(from: 0, to: workload.comments.count, by: 100).map { workload.comments[$0] }
        for r in editedReflections {
            let current = try devices[r.author].store.reflection(id: r.id).reflection.body
            _ = try devices[r.author].store.edit(id: r.id, body: current + " One more sentence, added later.")
        }
        for c in editedComments {
            try devices[c.author].store.editComment(id: c.id, body: c.body + " Added later.")
        }
        for device in devices { try await device.engine.pushOnly() }
        var bytes = reader.connection.bytesReceived
        let (incremental, incrementalSeconds) = try await Stats.time { try await reader.engine.sync() }
        report.add(
            "incremental_pull",
            [
                "seconds": incrementalSeconds, "records": Double(incremental.pulled),
                "bytes": Double(reader.connection.bytesReceived - bytes),
                "edited": Double(editedReflections.count + editedComments.count),
            ])

        // No-op syncs.
        var noOp: [Double] = []
        for _ in 0..<noOpRuns {
            let (_, seconds) = try await Stats.time { try await reader.engine.sync() }
            noOp.append(seconds)
        }
        report.add(
            "no_op_sync", ["p50_ms": Stats.percentile(noOp, 50) * 1000, "p99_ms": Stats.percentile(noOp, 99) * 1000])

        // Deletes: 1% of each kind; the reader's pull must bring exactly those it could see.
        let deletedReflections = stride(from: 50, to: workload.reflections.count, by: 100).map {
            workload.reflections[$0]
        }
        let deletedComments = stride(from: 50, to: workload.comments.count, by: 100).map { workload.comments[$0] }
        let readerHeld = Set(try reader.store.reflections().map(\.reflection.id))
        for r in deletedReflections { try devices[r.author].store.delete(.reflection, id: r.id) }
        for c in deletedComments where (try? devices[c.author].store.comment(id: c.id)) != nil {
            try devices[c.author].store.delete(.comment, id: c.id)
        }
        for device in devices { try await device.engine.pushOnly() }
        bytes = reader.connection.bytesReceived
        let eventsBefore = try reader.store.events(limit: 1).last?.id ?? 0
        let (_, deleteSeconds) = try await Stats.time { try await reader.engine.sync() }
        let events = try reader.store.events(limit: 100_000).filter { $0.id > eventsBefore && $0.direction == "pull" }
        let tombstones = events.filter { $0.outcome == "tombstone" || $0.outcome == "removal" }
        let expectedReflections = deletedReflections.filter { readerHeld.contains($0.id) }.count
        let reflectionTombstones = tombstones.filter { $0.entity == "reflection" }.count
        report.add(
            "deletes",
            [
                "seconds": deleteSeconds, "tombstones": Double(tombstones.count),
                "reflection_tombstones": Double(reflectionTombstones),
                "expected_reflection_tombstones": Double(expectedReflections),
                "exact": reflectionTombstones == expectedReflections ? 1 : 0,
                "bytes": Double(reader.connection.bytesReceived - bytes),
            ])

        // A conflict: member 0's first device and the reader (another device of member 0) edit the same sentence.
        if let target = workload.reflections.first(where: {
            $0.author == 0 && !deletedReflections.map(\.id).contains($0.id)
        }) {
            try await devices[0].engine.sync()
            let base = try devices[0].store.reflection(id: target.id).reflection.body
            let firstSentenceEnd = base.firstIndex(of: ".") ?? base.endIndex
            let a = "First device's words" + base[firstSentenceEnd...]
            let b = "Second device's words" + base[firstSentenceEnd...]
            _ = try devices[0].store.edit(id: target.id, body: a)
            _ = try reader.store.edit(id: target.id, body: b)
            try await devices[0].engine.sync()
            let second = try await reader.engine.sync()
            let local = try reader.store.reflection(id: target.id)
            let survived =
                local.reflection.body.contains("First device's words")
                && local.revisions.contains { $0.fields.body.contains("Second device's words") }
            report.add(
                "conflict",
                ["second_writer_conflicts": Double(second.conflicts), "both_edits_survive": survived ? 1 : 0])
        }

        // Concurrency: clients write, push and pull at once for a bounded time.
        report.add("concurrency", try await concurrency(trust: trust, tag: tag, password: password))

        // Real time: one device pushes, another of the same member watches.
        if liveChanges > 0 {
            report.add("live_latency", try await liveLatency(writer: devices[0], watcher: reader, count: liveChanges))
        }
        if idleStreamCount > 0,
            let figures = try await idleStreams(trust: trust, tag: tag, password: password, count: idleStreamCount)
        {
            report.add("idle_streams", figures)
        }

        if let serverData, engine == "sqlite" {
            report.add(
                "compaction",
                try await compactionStep(data: serverData, workload: workload, devices: devices, reader: reader))
        }

        if let pid = serverPID, let peak = Stats.peakMemoryMiB(pid: pid) {
            report.add("server_memory", ["peak_mib": peak])
        }
        if let peak = Stats.peakMemoryMiB(pid: ProcessInfo.processInfo.processIdentifier) {
            report.add("client_memory", ["peak_mib": peak])
        }

        // The floor: the same records straight into a GRDB database in one transaction; each rate as a share of it.
        let floorFigures = try floor(workload)
        report.add("floor", floorFigures)
        if let floorRate = floorFigures["records_per_s"] {
            var ratios: [String: Double] = [:]
            for (step, figures) in report.steps {
                if let rate = figures["records_per_s"], step != "floor" { ratios[step] = rate / floorRate }
            }
            report.add("share_of_floor", ratios)
        }

        for device in devices + [reader] { await device.close() }
        report.print()
    }

    func concurrency(trust: ServerTrust, tag: String, password: String) async throws -> [String: Double] {
        var clients: [BenchDevice] = []
        for c in 0..<concurrentClients {
            clients.append(
                try await BenchDevice.make(
                    server: server, trust: trust, handle: "c\(c)-\(tag)", password: password, register: true))
        }
        // Each client first catches up with the community (a full pull), outside the timed window.
        for client in clients { try await client.engine.sync() }
        let deadline = ContinuousClock.now + .seconds(concurrencySeconds)
        let results = try await withThrowingTaskGroup(of: (latencies: [Double], acknowledged: [UUID], errors: Int).self)
        { group in
            for client in clients {
                group.addTask {
                    var latencies: [Double] = []
                    var acknowledged: [UUID] = []
                    var errors = 0
                    var n = 0
                    while ContinuousClock.now < deadline {
                        var written: [UUID] = []
                        for _ in 0..<5 {
                            n += 1
                            written.append(
                                try client.store.write(
                                    title: "Concurrent \(n)", body: "Written under load, number \(n).\n",
                                    visibility: .community, promptID: 4
                                ).id)
                        }
                        do {
                            let (summary, seconds) = try await Stats.time { try await client.engine.sync() }
                            latencies.append(seconds)
                            if summary.rejected > 0 { errors += summary.rejected }
                            acknowledged += written
                        } catch {
                            errors += 1
                        }
                    }
                    return (latencies, acknowledged, errors)
                }
            }
            var all: [(latencies: [Double], acknowledged: [UUID], errors: Int)] = []
            for try await result in group { all.append(result) }
            return all
        }
        // Every acknowledged record must be on the server: a fresh client of the first member reads them all.
        let checker = try await BenchDevice.make(
            server: server, trust: trust, handle: "c0-\(tag)", password: password, register: false)
        try await checker.engine.sync()
        let stored = Set(try checker.store.reflections().map(\.reflection.id))
        let acknowledged = results.flatMap(\.acknowledged)
        let lost = acknowledged.filter { !stored.contains($0) }.count
        let latencies = results.flatMap(\.latencies)
        for client in clients + [checker] { await client.close() }
        return [
            "clients": Double(concurrentClients), "seconds": Double(concurrencySeconds),
            "syncs_per_s": Double(latencies.count) / Double(concurrencySeconds),
            "records_per_s": Double(acknowledged.count) / Double(concurrencySeconds),
            "p50_ms": Stats.percentile(latencies, 50) * 1000, "p99_ms": Stats.percentile(latencies, 99) * 1000,
            "errors": Double(results.map(\.errors).reduce(0, +)), "acknowledged": Double(acknowledged.count),
            "lost": Double(lost),
        ]
    }

    /// Every pull page after 0, fetched and unzipped but not decoded into records or stored.
    static func downloadOnly(_ connection: ServerConnection, token: String) async throws -> (records: Int, bytes: Int) {
        var cursor: Int64 = 0
        var records = 0
        var bytes = 0
        while true {
            let page = try await connection.pullPage(since: cursor, limit: Limits.pullMaxLimit, token: token)
            records += page.count
            bytes += page.bytes
            cursor = page.nextCursor
            if !page.hasMore { return (records, bytes) }
        }
    }

    /// Runs the `reflect` executable (beside this one) as a member would: init, login, then a full `sync`, timed,
    /// with its peak memory from the kernel's accounting of the child. Nil when `reflect` is not built.
    func realClientPull(pin: String, handle: String, password: String) async throws -> [String: Double]? {
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let reflect = bin.appendingPathComponent("reflect").path
        guard FileManager.default.isExecutableFile(atPath: reflect) else { return nil }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent(
            "reflect-bench-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        func run(_ arguments: [String], stdin: String = "") throws -> (status: Int32, peakMiB: Double, output: Data) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: reflect)
            process.arguments = ["--home", home.path] + arguments
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            let printed = Mutex(Data())
            output.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                printed.withLock { $0.append(data) }
            }
            try process.run()
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
            // The child's own high-water mark (VmHWM starts afresh at exec, unlike the rusage of a forked child,
            // which counts the parent's pages), sampled until it exits: it only grows, so the last sample holds.
            var peak = 0.0
            while process.isRunning {
                peak = max(peak, Stats.peakMemoryMiB(pid: process.processIdentifier) ?? 0)
                usleep(10_000)
            }
            process.waitUntilExit()
            output.fileHandleForReading.readabilityHandler = nil
            let rest = output.fileHandleForReading.readDataToEndOfFile()
            return (process.terminationStatus, peak, printed.withLock { $0 } + rest)
        }
        guard try run(["init", "--server", server, "--pin", pin]).status == 0,
            try run(["login", "--user", handle, "--password-stdin"], stdin: password + "\n").status == 0
        else { return nil }
        let (result, seconds) = try Stats.timeSync { try run(["--json", "sync"]) }
        guard result.status == 0 else { return nil }
        let records = try JSONDecoder().decode(SyncSummary.self, from: result.output).pulled
        return [
            "records_per_s": Double(records) / seconds, "records": Double(records), "seconds": seconds,
            "peak_mib": result.peakMiB,
        ]
    }

    func floor(_ workload: Workload) throws -> [String: Double] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "reflect-floor-\(UUID().uuidString).sqlite"
        ).path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE records (id TEXT PRIMARY KEY, parent TEXT, title TEXT, body TEXT NOT NULL,
                        visibility TEXT, version INTEGER NOT NULL) STRICT
                    """)
        }
        let (_, seconds) = try Stats.timeSync {
            try queue.write { db in
                for r in workload.reflections {
                    try db.execute(
                        sql: "INSERT INTO records VALUES (?, NULL, ?, ?, ?, 1)",
                        arguments: [r.id.uuidString, r.title, r.body, r.visibility.rawValue])
                }
                for c in workload.comments {
                    try db.execute(
                        sql: "INSERT INTO records VALUES (?, ?, NULL, ?, NULL, 1)",
                        arguments: [c.id.uuidString, workload.reflections[c.reflection].id.uuidString, c.body])
                }
            }
        }
        return [
            "records_per_s": Double(workload.reflections.count + workload.comments.count) / seconds, "seconds": seconds,
        ]
    }
}

extension Stats {
    static func timeSync<T>(_ body: () throws -> T) throws -> (T, Double) {
        let start = ContinuousClock.now
        let value = try body()
        let elapsed = ContinuousClock.now - start
        return (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// The figures of one run: a table and one JSON line per step.
struct Report {
    var n: Int
    var engine: String
    /// Whether the server's process was given, so that its CPU could be read.
    var measuresServer = true
    var steps: [(String, [String: Double])] = []
    var notes: [String] = []

    /// Adds a step's figures; with no server process to read (`--server-pid` not given), its CPU figure is left
    /// out rather than printed as 0.
    mutating func add(_ step: String, _ figures: [String: Double]) {
        var figures = figures
        if !measuresServer { figures["server_cpu_us_per_record"] = nil }
        steps.append((step, figures))
    }

    func print() {
        Swift.print("")
        Swift.print("| step (N=\(n), \(engine)) | figures |")
        Swift.print("| --- | --- |")
        for (step, figures) in steps {
            let text = figures.sorted { $0.key < $1.key }.map { "\($0.key) \(format($0.value))" }.joined(
                separator: ", ")
            Swift.print("| \(step) | \(text) |")
        }
        for note in notes { Swift.print("note: \(note)") }
        for (step, figures) in steps {
            var object: [String: Any] = ["step": step, "n": n, "engine": engine]
            for (key, value) in figures { object[key] = (value * 1000).rounded() / 1000 }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                Swift.print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    func format(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(format: "%.2f", value)
    }
}
