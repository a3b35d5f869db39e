import ArgumentParser
import Foundation
import ReflectionsClient
import ReflectionsModel

@main
struct Reflect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reflect",
        abstract: "Write reflections offline and sync them with your community's reflectd server.",
        discussion: """
            Everything you write is saved on this device first and works with no network at all; 'reflect sync' \
            sends it when a network appears. Reflections are private unless you choose --visibility community.

            Getting started:
              reflect init --server https://127.0.0.1:8443 --pin sha256:…   (the line reflectd printed)
              reflect register --user amara
              echo "What I learned today…" | reflect write --title "Allyship" --prompt 1
              reflect sync

            The home folder is --home, else $REFLECT_HOME, else $XDG_DATA_HOME/reflect (~/.local/share/reflect).
            Commands that print data take --json (stable field names) for scripts.

            Exit codes: 0 ok; 1 other failure; 3 not set up or not logged in; 4 no such record; \
            5 server unreachable or untrusted; 6 refused by the server; 7 conflicts remain after sync; \
            8 the server rejected changes that are kept for you to look at; 64 bad usage.
            """,
        subcommands: [
            Init.self, Register.self, Login.self, Logout.self, Account.self, Prompts.self, Write.self, Edit.self,
            Delete.self,
            CommentCommand.self, DraftsCommand.self, List.self, Show.self, Sync.self, Status.self, Conflicts.self,
            Resolve.self,
            LogCommand.self, Retry.self, Discard.self, UI.self,
        ])

    /// Global options may stand before the subcommand (`reflect --home DIR sync`) or after it
    /// (`reflect sync --home DIR`): the ones before it are moved behind it, then the command runs as usual.
    static func main() async {
        // Whatever the client creates (its database, drafts, exports) is the member's alone.
        umask(0o077)
        let arguments = hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst()))
        errorsAsJSON = arguments.contains("--json")
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--json" {
                leading.append(argument)
                index += 1
            } else if argument == "--home", index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if argument.hasPrefix("--home=") {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count else { return arguments }
        // The subcommand, then the hoisted options, then the rest.
        return [arguments[index]] + leading + arguments[(index + 1)...]
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The client home folder (default: $REFLECT_HOME, else $XDG_DATA_HOME/reflect).")
    var home: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    var homeURL: URL {
        let env = ProcessInfo.processInfo.environment
        if let home, !home.isEmpty { return URL(fileURLWithPath: home) }
        if let value = env["REFLECT_HOME"], !value.isEmpty { return URL(fileURLWithPath: value) }
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("reflect")
        }
        let user = env["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: user).appendingPathComponent(".local/share/reflect")
    }

    func openStore() throws -> ClientStore {
        try ClientStore.open(home: homeURL)
    }

    /// The store of an initialized home, or the error that says to run `reflect init`.
    func openInitializedStore() throws -> ClientStore {
        let store = try openStore()
        guard try store.settings().isInitialized else {
            throw ClientError(
                .notInitialized,
                "\(homeURL.path) is not set up: run 'reflect init --server https://HOST:PORT --pin sha256:…' first.")
        }
        return store
    }
}

/// Whether `--json` was given: errors are then also printed as JSON on standard output, for scripts.
nonisolated(unsafe) var errorsAsJSON = false

/// Runs a command body, turning every error into a one-line reason and its exit code. With `--json`, the error is
/// also printed on standard output as `{"error":{"code":…,"message":…}}` (the server's code when the server
/// refused), with the same exit code.
func runReporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ClientError {
        FileHandle.standardError.write(Data("reflect: \(error.adviceMessage)\n".utf8))
        if errorsAsJSON {
            try? printJSON(ErrorBody(code: error.serverCode ?? error.code.rawValue, message: error.adviceMessage))
        }
        throw ExitCode(exitCode(for: error))
    } catch let error as ExitCode {
        throw error
    } catch let error as ArgumentParser.ValidationError {
        throw error
    } catch {
        FileHandle.standardError.write(Data("reflect: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

extension ClientError {
    /// The message with the command line's advice for the member's next step (the library names no command).
    var adviceMessage: String {
        guard let next else { return message }
        let advice =
            switch next {
            case .setUp: "Run 'reflect init --server https://HOST:PORT --pin sha256:…' first."
            case .logIn: "Run 'reflect login --user NAME'."
            case .listRecords: "'reflect list' shows them."
            case .listRejected: "'reflect status' lists them."
            case .listPrompts: "'reflect prompts' lists them."
            case .listConflicts: "'reflect conflicts' lists them."
            case .trustAgain: "If its certificate changed on purpose, run 'reflect init' again with the new pin."
            case .useAnotherHome: "Use another --home."
            }
        return "\(message) \(advice)"
    }
}

func exitCode(for error: ClientError) -> Int32 {
    switch error.code {
    case .notInitialized, .notLoggedIn, .alreadyInitialized, .wrongMember: 3
    case .notFound, .ambiguousID: 4
    case .unreachable, .untrusted: 5
    case .server: 6
    case .invalidInput, .notAllowed, .nothingToDo: 1
    default: 1
    }
}

/// Runs `body`, then closes `home` (its connection, if one was made, and its store), whether or not `body` threw.
func closing<T>(_ home: Home, _ body: () async throws -> T) async throws -> T {
    do {
        let result = try await body()
        try await home.close()
        return result
    } catch {
        try? await home.close()
        throw error
    }
}

/// JSON with sorted keys, for `--json`.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A secret from the terminal (not echoed), or the first line of standard input.
func readSecret(prompt: String, fromStdin: Bool) throws -> String {
    if !fromStdin, isatty(STDIN_FILENO) == 1, let pointer = getpass(prompt) {
        return String(cString: pointer)
    }
    guard let line = readLine(strippingNewline: true), !line.isEmpty else {
        throw ClientError(.invalidInput, "No password on standard input.")
    }
    return line
}

/// Text from a file, or from standard input (with a hint when it is a terminal).
func readText(file: String?, what: String) throws -> String {
    if let file {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ClientError(.invalidInput, "Cannot read \(file): check the path.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ClientError(.invalidInput, "\(file) is not UTF-8 text.")
        }
        return text
    }
    if isatty(STDIN_FILENO) == 1 {
        FileHandle.standardError.write(Data("Write your \(what); finish with Ctrl-D on a line of its own.\n".utf8))
    }
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard let text = String(data: data, encoding: .utf8) else {
        throw ClientError(.invalidInput, "Standard input is not UTF-8 text.")
    }
    return text
}

/// A time as local `YYYY-MM-DD HH:MM`.
func timeText(_ millis: Int64) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
}

/// The first 8 characters of an id, as `list` shows it (any unique prefix of 4 or more works as an argument).
func shortID(_ id: UUID) -> String { String(id.uuidString.prefix(8)) }

extension Visibility: ExpressibleByArgument {}
