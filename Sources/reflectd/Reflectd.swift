import ArgumentParser
import Foundation
import Logging
import ReflectionsFiles
import ReflectionsModel
import ReflectionsServer

@main
struct Reflectd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reflectd",
        abstract: "The Reflections sync server (HTTPS only).",
        discussion: """
            A first start with no certificate makes a self-signed one in the data folder and prints the exact \
            'reflect init …' line that trusts it.

            Examples:
              reflectd serve --data ./data
              reflectd serve --data ./data --database postgres://reflect@db.internal/reflect
              reflectd user add --data ./data --handle amara --role moderator
              reflectd log --data ./data --limit 20
              reflectd backup --data ./data --to /backups/reflect-2026-11-28.sqlite
              reflectd restore --from /backups/reflect-2026-11-28.sqlite --data ./data-restored
            """,
        subcommands: [
            Serve.self, User.self, Log.self, Fingerprint.self, Backup.self, Restore.self, MarkRestored.self,
            Compact.self,
        ],
        defaultSubcommand: Serve.self)

    static func main() async {
        // The database, its WAL, the key and anything else the server creates are the operator's alone.
        umask(0o077)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Options every subcommand that opens the database shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The server's data folder (SQLite database, generated certificate).")
    var data: String = "./reflectd-data"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Keep the data in PostgreSQL instead of SQLite (default: $REFLECTD_DATABASE, else SQLite).",
            discussion: "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]; the "
                + "password may come from $PGPASSWORD instead.",
            valueName: "url"))
    var database: String? = ProcessInfo.processInfo.environment["REFLECTD_DATABASE"].flatMap { $0.isEmpty ? nil : $0 }

    var url: URL { URL(fileURLWithPath: data) }

    func validate() throws {
        guard let database else { return }
        do {
            _ = try PostgresURL(database)
        } catch let error as ServerError {
            throw ArgumentParser.ValidationError("--database: \(error.message)")
        }
    }

    func openStore() async throws -> any ServerStore {
        let configuration = ServerConfiguration(dataDirectory: url, database: database)
        try ReflectServer.prepareDataDirectory(configuration)
        return try await configuration.openStore()
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default subcommand).")

    @OptionGroup var data: DataOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one).") var port = 8443
    @Option(name: .customLong("tls-cert"), help: "PEM certificate (chain) to serve instead of the generated one.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.") var tlsKey: String?
    @Flag(name: .customLong("invite-only"), help: "Refuse POST /v1/accounts: only 'reflectd user add' creates members.")
    var inviteOnly = false
    @Option(name: .customLong("idle-timeout"), help: "Close a connection that sends nothing for this many seconds.")
    var idleTimeout: Int64 = 30
    @Option(
        name: .customLong("header-timeout"),
        help: "Close a connection whose first request's headers have not arrived this many seconds after connecting.")
    var headerTimeout: Int64 = 10
    @Option(
        name: .customLong("request-timeout"),
        help: "Close a connection whose request body has not ended this many seconds after its headers.")
    var requestTimeout: Int64 = 60
    @Option(
        name: .customLong("session-idle-days"),
        help: "A session (login) unused for this many days ends by itself.")
    var sessionIdleDays: Int64 = 30
    @Option(
        name: .customLong("session-max-days"),
        help: "Every session ends this many days after its login, used or not.")
    var sessionMaxDays: Int64 = 180
    @Option(
        name: .customLong("max-streams"),
        help: "At most this many open change streams (GET /v1/sync/events) in all; more get 429.")
    var maxStreams = Limits.eventStreamsPerServerDefault
    @Option(
        name: .customLong("max-streams-per-member"),
        help: "At most this many open change streams per member; more get 429.")
    var maxStreamsPerMember = Limits.eventStreamsPerMemberDefault
    @Option(
        name: .customLong("metrics-port"),
        help: "Serve GET /metrics (Prometheus text format, over TLS) on this port of --metrics-host; off by default.")
    var metricsPort: Int?
    @Option(
        name: .customLong("metrics-host"),
        help: "The address of the metrics listener (loopback by default: never the members' listener).")
    var metricsHost = "127.0.0.1"
    @Option(
        name: .customLong("compact-every"),
        help: "Compact every this many hours (as 'reflectd compact'; 0: never).")
    var compactEvery = 0
    @Option(name: .customLong("keep-days"), help: "What --compact-every keeps, in days.") var keepDays = 90

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ArgumentParser.ValidationError("--tls-cert and --tls-key go together.")
        }
        if !(0...65535).contains(port) { throw ArgumentParser.ValidationError("--port must be from 0 to 65535.") }
        if !(1...3600).contains(idleTimeout) {
            throw ArgumentParser.ValidationError("--idle-timeout must be from 1 to 3600 seconds.")
        }
        if !(1...3600).contains(headerTimeout) || !(1...3600).contains(requestTimeout) {
            throw ArgumentParser.ValidationError(
                "--header-timeout and --request-timeout must be from 1 to 3600 seconds.")
        }
        if !(1...3650).contains(sessionIdleDays) || !(1...3650).contains(sessionMaxDays) {
            throw ArgumentParser.ValidationError("--session-idle-days and --session-max-days must be from 1 to 3650.")
        }
        if !(0...8760).contains(compactEvery) || !(1...36_500).contains(keepDays) {
            throw ArgumentParser.ValidationError(
                "--compact-every must be from 0 to 8760 hours, and --keep-days from 1 to 36500.")
        }
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ArgumentParser.ValidationError("--metrics-port must be from 0 to 65535.")
        }
        if let metricsPort, metricsPort != 0, metricsPort == port, metricsHost == host {
            throw ArgumentParser.ValidationError(
                "--metrics-port must differ from --port: metrics never share the members' port.")
        }
        if !(0...100_000).contains(maxStreams) || !(1...1000).contains(maxStreamsPerMember) {
            throw ArgumentParser.ValidationError(
                "--max-streams must be from 0 (no streams) to 100000, and --max-streams-per-member from 1 to 1000.")
        }
    }

    func run() async throws {
        var configuration = ServerConfiguration(
            dataDirectory: data.url, host: host, port: port, certificatePath: tlsCert, keyPath: tlsKey,
            inviteOnly: inviteOnly, idleTimeoutSeconds: idleTimeout, database: data.database,
            sessions: SessionPolicy(idleDays: sessionIdleDays, maxDays: sessionMaxDays),
            headerTimeoutSeconds: headerTimeout, requestTimeoutSeconds: requestTimeout)
        configuration.events = EventHub.Configuration(maxStreams: maxStreams, maxStreamsPerMember: maxStreamsPerMember)
        configuration.metricsPort = metricsPort
        if compactEvery > 0 {
            configuration.compaction = .init(every: .seconds(compactEvery * 3600), keepDays: keepDays)
        }
        configuration.metricsHost = metricsHost
        let metricsHost = self.metricsHost
        try ReflectServer.prepareDataDirectory(configuration)
        // Each open stream holds a connection, so a descriptor: take the hard limit, not the usual soft 1,024.
        FileDescriptorLimit.raiseToHardLimit()
        let store = try await configuration.openStore()
        let tls = try ReflectServer.prepareTLS(configuration)
        var logger = Logger(label: "reflectd")
        logger.logLevel =
            ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        let host = self.host
        let database = data.database.flatMap { try? PostgresURL($0).description } ?? configuration.databasePath
        let app = try ReflectServer.buildApplication(
            configuration: configuration, store: store, tls: tls, logger: logger,
            onRunning: { port in
                let shownHost = host.contains(":") ? "[\(host)]" : host
                var lines = [
                    "reflectd: serving https://\(shownHost):\(port) (data: \(database))"
                ]
                lines.append(
                    "reflectd: certificate fingerprint \(tls.fingerprint)\(tls.generated ? " (new, self-signed)" : "")")
                lines.append("reflectd: trust it on a client with:")
                lines.append("  reflect init --server https://\(shownHost):\(port) --pin \(tls.fingerprint)")
                print(lines.joined(separator: "\n"))
                fflush(nil)
            },
            onMetricsRunning: { port in
                let shown = metricsHost.contains(":") ? "[\(metricsHost)]" : metricsHost
                print("reflectd: metrics on https://\(shown):\(port)/metrics")
                fflush(nil)
            })
        try await app.runService()
        try await store.close()
    }
}

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage members.", subcommands: [Add.self, List.self, SetRole.self, Disable.self, Sessions.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a member (the password is read from the terminal, or from stdin with --password-stdin).")
        @OptionGroup var data: DataOptions
        @Option(help: "Login name: 3–32 of a-z 0-9 . _ -") var handle: String
        @Option(name: .customLong("display-name"), help: "Name shown beside their writing.") var displayName: String?
        @Option(help: "member or moderator.") var role: Member.Role = .member
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.") var passwordStdin =
            false
        @Flag(help: "Print the new member as JSON.") var json = false

        func run() async throws {
            let store = try await data.openStore()
            let password = try readSecret(prompt: "Password for \(handle): ", fromStdin: passwordStdin)
            let member = try await SyncAPI.makeMember(
                RegisterRequest(handle: handle, displayName: displayName, password: password), role: role,
                hasher: PasswordHasher(), store: store, now: WallClock.system.now())
            try await store.close()
            if json {
                print(try jsonText(member))
            } else {
                print("added \(member.handle) (\(member.role.rawValue)), id \(member.id.uuidString)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List members.")
        @OptionGroup var data: DataOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try await data.openStore()
            let members = try await store.members()
            try await store.close()
            if json {
                print(try jsonText(members))
                return
            }
            print("HANDLE".padding(toLength: 24, withPad: " ", startingAt: 0) + "ROLE       STATE     NAME")
            for entry in members {
                let m = entry.member
                print(
                    m.handle.padding(toLength: 24, withPad: " ", startingAt: 0)
                        + m.role.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                        + (entry.disabled ? "disabled  " : "active    ") + m.displayName)
            }
        }
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Change a member's role.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The member's handle.") var handle: String
        @Argument(help: "member or moderator.") var role: Member.Role

        func run() async throws {
            let store = try await data.openStore()
            let member = try await store.setRole(handle: handle.lowercased(), role: role)
            try await store.close()
            print("\(member.handle) is now a \(member.role.rawValue)")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a member: their sessions end at once and they cannot log in (--enable undoes it).")
        @OptionGroup var data: DataOptions
        @Argument(help: "The member's handle.") var handle: String
        @Flag(help: "Enable the member again.") var enable = false

        func run() async throws {
            let store = try await data.openStore()
            let member = try await store.setDisabled(handle: handle.lowercased(), disabled: !enable)
            try await store.close()
            print("\(member.handle) is \(enable ? "enabled" : "disabled")")
        }
    }
}

extension User {
    struct Sessions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a member's sessions (logins), or end them all with --revoke.",
            discussion: """
                A session ends by itself after 30 days unused or 180 days in all (see 'reflectd serve \
                --session-idle-days/--session-max-days'). --revoke ends every session of the member at once: \
                use it when a device is lost or a token may have leaked. Their devices keep what they wrote \
                and send it after the member logs in again.

                Examples:
                  reflectd user sessions amara --data ./data
                  reflectd user sessions amara --data ./data --revoke
                """)
        @OptionGroup var data: DataOptions
        @Argument(help: "The member's handle.") var handle: String
        @Flag(help: "End every session of the member.") var revoke = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try await data.openStore()
            let handle = handle.lowercased()
            if revoke {
                let count = try await store.revokeSessions(handle: handle)
                try await store.close()
                if json {
                    print(try jsonText(["revoked": count]))
                } else {
                    print("ended \(count) session(s) of \(handle)")
                }
                return
            }
            let sessions = try await store.sessions(handle: handle, policy: SessionPolicy())
            try await store.close()
            if json {
                print(try jsonText(sessions))
                return
            }
            if sessions.isEmpty {
                print("\(handle) has no sessions")
                return
            }
            print("SESSION       CREATED                 LAST USED               ENDS (default limits, if unused)")
            for session in sessions {
                print(
                    session.id.padding(toLength: 14, withPad: " ", startingAt: 0)
                        + time(session.createdAt).padding(toLength: 24, withPad: " ", startingAt: 0)
                        + time(session.lastUsedAt).padding(toLength: 24, withPad: " ", startingAt: 0)
                        + time(session.expiresAt))
            }
        }

        func time(_ millis: Int64) -> String {
            Date(timeIntervalSince1970: Double(millis) / 1000).ISO8601Format()
        }
    }
}

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the server's change log, oldest first.")
    @OptionGroup var data: DataOptions
    @Option(help: "Entries after this sequence number.") var since: Int64 = 0
    @Option(help: "At most this many entries (1–1000).") var limit = 100
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if !(1...Limits.logMaxLimit).contains(limit) {
            throw ArgumentParser.ValidationError("--limit must be from 1 to 1000.")
        }
    }

    func run() async throws {
        let store = try await data.openStore()
        let log = try await store.log(for: nil, since: since, limit: limit)
        try await store.close()
        if json {
            print(try jsonText(log))
            return
        }
        for entry in log.entries {
            let time = Date(timeIntervalSince1970: Double(entry.at) / 1000).ISO8601Format()
            print(
                "\(entry.sequence)\t\(time)\t\(entry.operation) \(entry.entity.rawValue) \(entry.recordID.uuidString)"
                    + "\t\(entry.outcome)\tclient \(entry.clientID?.uuidString ?? "-")")
        }
        if log.hasMore { print("… more: reflectd log --since \(log.nextCursor)") }
    }
}

struct Fingerprint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the SHA-256 pin of the server's certificate (what 'reflect init --pin' takes).")
    @OptionGroup var data: DataOptions
    @Option(name: .customLong("tls-cert"), help: "A PEM certificate to fingerprint instead of the generated one.")
    var tlsCert: String?

    func run() throws {
        let path = tlsCert ?? ServerConfiguration(dataDirectory: data.url).generatedCertificatePath
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ArgumentParser.ValidationError(
                "No certificate at \(path): start 'reflectd serve --data \(data.data)' once to make it.")
        }
        print(try SelfSignedCertificate.fingerprint(pem: pem))
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite database consistently while the server runs, check the copy, say what it holds.",
        discussion: """
            The copy is one snapshot: every push acknowledged before the backup started is in it. The generated \
            certificate and key are copied beside it (FILE.tls-cert.pem, FILE.tls-key.pem, mode 0600), so that a \
            restored server keeps the pin members trust. FILE must not exist. With PostgreSQL use pg_dump \
            (README: "Backup and restore").
            """)
    @OptionGroup var data: DataOptions
    @Option(help: "The backup file to write (must not exist).") var to: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        if data.database != nil {
            throw ArgumentParser.ValidationError(
                "backup copies the SQLite database; with PostgreSQL use pg_dump (README: \"Backup and restore\").")
        }
        let summary = try await reportingServerErrors {
            try SQLiteBackup.backup(configuration: ServerConfiguration(dataDirectory: data.url), to: to)
        }
        try printBackup(summary, json: json, verb: "backup")
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set up a new data folder from a backup (never overwrites one).",
        discussion: """
            The restored database gets a new epoch: devices that synced after the backup was taken notice it on \
            their next sync, download what the server has, and send again what it lacks — nothing they wrote is \
            lost. Start the server on the new folder afterwards.
            """)
    @Option(help: "The backup file.") var from: String
    @Option(help: "The new data folder (must be empty or absent).") var data: String

    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: data))
        let summary = try await reportingServerErrors {
            try await SQLiteBackup.restore(from: from, into: configuration)
        }
        try printBackup(summary, json: json, verb: "restored")
        if !json { print("reflectd: start it with: reflectd serve --data \(data)") }
    }
}

struct MarkRestored: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark-restored",
        abstract: "Give the database a new epoch after restoring it by other means (pg_dump, a file copy).",
        discussion: "Devices then notice the restore on their next sync and re-send what the database lacks.")
    @OptionGroup var data: DataOptions

    func run() async throws {
        let store = try await data.openStore()
        let epoch = try await store.renewEpoch(now: WallClock.system.now())
        try await store.close()
        print("reflectd: new epoch \(epoch); devices will resync on their next sync")
    }
}

struct Compact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove what no device needs any more, in short batches, while the server runs.",
        discussion: """
            Removes tombstones (deleted reflections and comments), resolved conflict versions, idempotency-ledger \
            entries and change-log rows older than --keep-days. Devices that have not synced since a removed \
            tombstone was made get 410 cursor_expired and resync by themselves, keeping their own pending changes. \
            'reflectd serve --compact-every HOURS' runs the same on a schedule.
            """)
    @OptionGroup var data: DataOptions
    @Option(
        name: .customLong("keep-days"),
        help:
            "Keep everything younger than this many days (0: compact everything deleted so far; every device then resyncs once)."
    )
    var keepDays = 90
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if !(0...36_500).contains(keepDays) {
            throw ArgumentParser.ValidationError("--keep-days must be from 0 to 36500.")
        }
    }

    func run() async throws {
        let store = try await data.openStore()
        let started = ContinuousClock.now
        let report = try await store.compact(keepDays: keepDays, now: WallClock.system.now())
        try await store.close()
        if json {
            print(try jsonText(report))
            return
        }
        print(
            "reflectd: compacted in \(started.duration(to: .now)): \(report.tombstones) tombstones "
                + "(and \(report.commentsOfTombstones) of their comments), \(report.versions) old versions, "
                + "\(report.ledger) ledger entries, \(report.log) log rows; horizon \(report.horizon)")
    }
}

/// Runs `body`, turning a ``ServerError`` into a one-line message and exit code 1.
func reportingServerErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ServerError {
        FileHandle.standardError.write(Data("reflectd: \(error.message)\n".utf8))
        throw ExitCode(1)
    }
}

func printBackup(_ summary: BackupSummary, json: Bool, verb: String) throws {
    if json {
        print(try jsonText(summary))
        return
    }
    print("reflectd: \(verb) \(summary.file) (\(summary.bytes) bytes, integrity \(summary.integrity))")
    print(
        "reflectd: \(summary.members) members, \(summary.reflections) reflections, \(summary.comments) comments, "
            + "change log up to \(summary.head)")
    print(
        summary.certificate
            ? "reflectd: with the server's certificate and key (the pin stays the same)"
            : "reflectd: without a generated certificate (the server uses --tls-cert, or makes a new one)")
}

extension Member.Role: ExpressibleByArgument {}

func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// A secret from the terminal (not echoed), or the first line of standard input.
func readSecret(prompt: String, fromStdin: Bool) throws -> String {
    if !fromStdin, isatty(STDIN_FILENO) == 1, let pointer = getpass(prompt) {
        return String(cString: pointer)
    }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ArgumentParser.ValidationError("No password on standard input.")
    }
    return line
}
