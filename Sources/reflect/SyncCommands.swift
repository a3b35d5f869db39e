import ArgumentParser
import Foundation
import ReflectionsClient
import ReflectionsModel

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send your changes and fetch everyone's; safe to interrupt and run again.",
        discussion: """
            Exit code 0: all synced; 7: conflicts remain ('reflect conflicts'); 8: the server rejected changes \
            ('reflect status').

            With --watch it keeps running until Ctrl-C (or SIGTERM): what you write in another terminal is sent \
            within a second, and what others share arrives as it happens. Offline, it keeps trying (1 s, doubling \
            to a minute) and your writing stays safe here. One line per sync that moved something (JSON lines \
            with --json); exit code 0 when stopped, 3 when the session ended, 5 when the server's certificate \
            changed.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Keep syncing as changes happen, until Ctrl-C.") var watch = false

    func run() async throws {
        if watch { return try await runWatching() }
        try await runReporting {
            let home = Home(store: try global.openInitializedStore())
            let showProgress = isatty(STDERR_FILENO) == 1 && !global.json
            let started = ContinuousClock.now
            // Records per second since the sync started, for the progress line.
            let rate: @Sendable (Int) -> String = { count in
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                return seconds > 0 ? "\(Int(Double(count) / seconds)) records/s" : ""
            }
            let (summary, rejected) = try await closing(home) {
                let summary = try await home.sync { progress in
                    guard showProgress else { return }
                    switch progress {
                    case .pushing(let sent, let total) where total > 500:
                        FileHandle.standardError.write(
                            Data("\rpushing \(sent)/\(total), \(rate(sent))…\u{1B}[K".utf8))
                    case .pulling(let received) where received > 1000:
                        FileHandle.standardError.write(Data("\rpulling \(received), \(rate(received))…\u{1B}[K".utf8))
                    default: break
                    }
                }
                return (summary, try home.store.status().rejectedMutations.count)
            }
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            if global.json {
                try printJSON(summary)
            } else {
                print(
                    "Synced: pushed \(summary.pushed), pulled \(summary.pulled), merged \(summary.merged), "
                        + "conflicts \(summary.openConflicts)\(summary.rejected > 0 ? ", rejected \(summary.rejected)" : "")."
                )
                if let resync = summary.resync {
                    let why =
                        resync.reason == .restored
                        ? "The server was restored from a backup"
                        : "This device had not synced for longer than the server keeps deletes"
                    print(
                        "\(why): this device downloaded what the server has (\(resync.received)) and sent again "
                            + "\(resync.resent) of your records it lacked; your own changes were kept.")
                }
                if summary.openConflicts > 0 { print("Open conflicts: 'reflect conflicts' lists them.") }
                if rejected > 0 { print("Rejected changes are kept: 'reflect status' shows them and why.") }
            }
            if summary.openConflicts > 0 { throw ExitCode(7) }
            if rejected > 0 { throw ExitCode(8) }
        }
    }
}

extension Sync {
    /// `reflect sync --watch`: ``SyncWatcher`` until a signal.
    func runWatching() async throws {
        try await runReporting {
            let home = Home(store: try global.openInitializedStore())
            let json = global.json
            try await closing(home) {
                let watcher = try home.watcher()
                let task = Task { try await watcher.run { update in WatchLine(update).print(json: json) } }
                let signals = [SIGINT, SIGTERM].map { number in
                    signal(number, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: number)
                    source.setEventHandler { task.cancel() }
                    source.resume()
                    return source
                }
                defer { for source in signals { source.cancel() } }
                try await task.value
                WatchLine(event: "stopped").print(json: json)
            }
        }
    }
}

/// One line of `reflect sync --watch` (JSON with `--json`).
struct WatchLine: Encodable {
    var event: String
    var reason: String?
    var summary: SyncSummary?
    var error: ErrorBody?
    var retryInSeconds: Double?
    var at = Int64(Date().timeIntervalSince1970 * 1000)

    init(event: String) {
        self.event = event
    }

    init(_ update: SyncWatcher.Update) {
        switch update {
        case .synced(let summary, let reason):
            event = "synced"
            self.summary = summary
            self.reason = reason.rawValue
        case .live:
            event = "live"
        case .offline(let error, let retryIn):
            event = "offline"
            self.error = ErrorBody(code: error.serverCode ?? error.code.rawValue, message: error.adviceMessage)
            let parts = retryIn.components
            retryInSeconds = (Double(parts.seconds) + Double(parts.attoseconds) / 1e18 * 10).rounded() / 10
        }
    }

    func print(json: Bool) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if let data = try? encoder.encode(self) { Swift.print(String(decoding: data, as: UTF8.self)) }
            fflush(nil)
            return
        }
        let time = DateFormatter.localizedString(
            from: Date(timeIntervalSince1970: Double(at) / 1000), dateStyle: .none, timeStyle: .medium)
        switch event {
        case "synced":
            guard let summary, summary.pushed + summary.pulled + summary.rejected + summary.conflicts > 0 else {
                return
            }
            var parts = ["sent \(summary.pushed)", "received \(summary.pulled)"]
            if summary.merged > 0 { parts.append("merged \(summary.merged)") }
            if summary.openConflicts > 0 { parts.append("conflicts \(summary.openConflicts) ('reflect conflicts')") }
            if summary.rejected > 0 { parts.append("rejected \(summary.rejected) ('reflect status')") }
            Swift.print("\(time) synced: \(parts.joined(separator: ", ")).")
        case "live":
            Swift.print("\(time) connected: changes arrive as they happen (Ctrl-C stops).")
        case "offline":
            Swift.print(
                "\(time) \(error?.error.message ?? "offline") Trying again in \(Int((retryInSeconds ?? 1).rounded())) s."
            )
        default:
            Swift.print("\(time) stopped.")
        }
        fflush(nil)
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the server, member, pending changes, the last sync and open conflicts.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let status = try store.status()
            try store.close()
            if global.json { return try printJSON(status) }
            print("server:    \(status.server ?? "-")")
            print("member:    \(status.member ?? "-")\(status.loggedIn ? "" : " (not logged in)")")
            print("device:    \(status.clientID ?? "-")")
            var pending = "\(status.pendingMutations)"
            if let oldest = status.oldestPendingAt {
                let minutes = max(0, (Int64(Date().timeIntervalSince1970 * 1000) - oldest) / 60000)
                pending += " (oldest \(minutes < 120 ? "\(minutes) min" : "\(minutes / 60) h") ago)"
            }
            print("pending:   \(pending)")
            if let run = status.lastSync {
                var line = "\(timeText(run.startedAt)) \(run.status): pushed \(run.pushed), pulled \(run.pulled)"
                if let error = run.error { line += " — \(error)" }
                print("last sync: \(line)")
            } else if status.upToDateAt == nil {
                print("last sync: never")
            }
            if let resync = status.lastResync {
                print("resync:    \(timeText(resync.at)) — \(resync.detail)")
            }
            if let checked = status.upToDateAt {
                print("up to date: at \(timeText(checked)), a sync found nothing new")
            }
            print("conflicts: \(status.openConflicts)")
            if !status.rejectedMutations.isEmpty {
                print("rejected by the server (kept; 'reflect retry' sends them again):")
                for entry in status.rejectedMutations {
                    print(
                        "  \(entry.operation) \(entry.entity.rawValue) \(shortID(entry.recordID)): \(entry.rejectReason ?? entry.rejectCode ?? "")"
                    )
                    if let text = entry.text {
                        print("    text: \(text.replacingOccurrences(of: "\n", with: "\n          "))")
                    }
                    if let advice = advice(forRejection: entry.rejectCode, recordID: entry.recordID) {
                        print("    what to do: \(advice)")
                    }
                }
            }
        }
    }
}

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Show the local sync log: each sync run and each change's fate.",
        discussion: """
            The words in the log:
              local queued     made here, waiting to be sent
              push applied     stored by the server as sent
              push merged      merged with another device's change; nothing lost
              push conflict    overlapped another change; both kept ('reflect conflicts')
              push rejected    refused, with the reason; kept here ('reflect status')
              already applied  sent twice, stored once
              pull upsert      a new or changed record from the server
              pull tombstone   a record its author deleted
              pull removal     a record you may no longer see (made private or hidden)
            A sync run ends 'ok', 'conflicts' or 'failed' (with the reason, for example no network).
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "How many events to show (newest).") var limit = 50

    func validate() throws {
        if limit < 1 || limit > 10_000 { throw ArgumentParser.ValidationError("--limit must be from 1 to 10000.") }
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let events = try store.events(limit: limit)
            let allRuns = try store.runs(limit: 10_000)
            let runs = Dictionary(uniqueKeysWithValues: allRuns.map { ($0.id, $0) })
            let pending = try store.outbox()
            try store.close()
            // Runs that moved nothing — above all, failed ones (no network, session ended) — have no events, but
            // belong in the log too: those since the oldest event shown (all recent ones when there is none).
            let used = Set(events.compactMap(\.runID))
            let since = events.first?.at ?? 0
            let quietRuns = allRuns.filter { !used.contains($0.id) && $0.startedAt >= since }.prefix(limit)
                .sorted { $0.id < $1.id }
            if global.json {
                struct Log: Encodable {
                    var events: [SyncEventRecord]
                    var runs: [SyncRunRecord]
                    var outbox: [OutboxEntry]
                }
                return try printJSON(
                    Log(
                        events: events,
                        runs: (runs.values.filter { used.contains($0.id) } + quietRuns).sorted { $0.id < $1.id },
                        outbox: pending))
            }
            func header(_ run: SyncRunRecord) -> String {
                "sync #\(run.id) \(timeText(run.startedAt)) \(run.status): pushed \(run.pushed), pulled \(run.pulled), "
                    + "merged \(run.merged), conflicts \(run.conflicts), rejected \(run.rejected)"
                    + (run.error.map { " — \($0)" } ?? "")
            }
            var currentRun: Int64? = -1
            var quiet = quietRuns[...]
            for event in events {
                while let run = quiet.first, run.startedAt <= event.at {
                    print(header(run))
                    quiet = quiet.dropFirst()
                    currentRun = run.id
                }
                if event.runID != currentRun {
                    currentRun = event.runID
                    if let id = event.runID, let run = runs[id] {
                        print(header(run))
                    } else {
                        print("local changes:")
                    }
                }
                let record = event.recordID.map { String($0.prefix(8)) } ?? "-"
                print(
                    "  \(timeText(event.at))  \(event.direction.padding(toLength: 5, withPad: " ", startingAt: 0)) "
                        + "\(event.outcome.padding(toLength: 9, withPad: " ", startingAt: 0)) \(event.entity ?? "") \(record)"
                        + (event.detail.map { "  \($0)" } ?? ""))
            }
            for run in quiet { print(header(run)) }
            if !pending.isEmpty {
                print("outbox:")
                for entry in pending {
                    print(
                        "  \(entry.state) \(entry.operation) \(entry.entity.rawValue) \(shortID(entry.recordID))"
                            + (entry.rejectReason.map { " — \($0)" } ?? ""))
                }
            }
        }
    }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Queue the changes the server rejected to be sent again on the next sync.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            let count = try store.retryRejected()
            try store.close()
            if global.json { return try printJSON(["requeued": count]) }
            print("Queued \(count) rejected change(s) again; run 'reflect sync'.")
        }
    }
}

struct Discard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drop a change the server rejected, on purpose (its text stays readable in 'reflect log').",
        discussion: """
            Shows what will be dropped first, and asks at a terminal; --yes drops without asking (needed when \
            not at a terminal). A record left with no change of its own goes back to the server's version, or \
            leaves this device if it was never on the server.

            Examples:
              reflect discard 3f2a
              reflect discard --all-rejected --yes
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The record (or change) id, or a prefix of at least 4 characters, as 'reflect status' shows it.")
    var id: String?
    @Flag(name: .customLong("all-rejected"), help: "Every rejected change.") var allRejected = false
    @Flag(help: "Drop without asking.") var yes = false

    func validate() throws {
        if (id == nil) == !allRejected {
            throw ArgumentParser.ValidationError("Name one change (ID) or --all-rejected.")
        }
    }

    func run() async throws {
        try await runReporting {
            let store = try global.openInitializedStore()
            defer { try? store.close() }
            let entries = try store.rejectedChanges(matching: id)
            if entries.isEmpty {
                if global.json { return try printJSON(["discarded": 0]) }
                print("No rejected changes.")
                return
            }
            if !global.json {
                for entry in entries {
                    let text = (entry.text ?? "").replacingOccurrences(of: "\n", with: " ")
                    print(
                        "will drop: \(entry.operation) \(entry.entity.rawValue) \(shortID(entry.recordID)) — "
                            + "\(entry.rejectCode ?? "rejected"): \(text.count > 60 ? String(text.prefix(60)) + "…" : text)"
                    )
                }
            }
            if !yes {
                guard isatty(STDIN_FILENO) == 1 else {
                    throw ClientError(.invalidInput, "Nothing dropped: add --yes to drop without being asked.")
                }
                FileHandle.standardError.write(
                    Data("Drop \(entries.count) change(s)? Their text stays readable in 'reflect log'. [y/N] ".utf8))
                guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                    print("Nothing dropped.")
                    return
                }
            }
            let dropped = try store.discardRejected(entries)
            if global.json { return try printJSON(["discarded": dropped]) }
            print("Dropped \(dropped) change(s); 'reflect log' keeps their text.")
        }
    }
}

/// What a member can do about a rejected change, in this command line's words (nil: nothing beyond `retry`).
func advice(forRejection code: String?, recordID: UUID) -> String? {
    let id = shortID(recordID)
    switch code {
    case "open_conflicts":
        return "this record has unresolved conflicts: 'reflect conflicts', then 'reflect resolve \(id) --mine' "
            + "(or --theirs, --file), then 'reflect retry' and 'reflect sync' to send the delete."
    case "too_many_conflicts":
        return "this record holds the most unresolved conflicts it may: 'reflect resolve \(id) --mine' (or "
            + "--theirs, --file), then 'reflect retry' and 'reflect sync' to send this change."
    case "server_error":
        return "the server failed to apply it; 'reflect retry' and 'reflect sync' send it again."
    default:
        return nil
    }
}
