import Foundation

/// Runs the built `reflect` and `reflectd` executables as real processes, awaiting their exit without
/// blocking Swift's cooperative threads.
public enum CLIRunner {
    /// What a process printed and how it ended.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The folder holding the built executables (beside the test bundle).
    public static var binDirectory: URL {
        let runner = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("reflect").path) {
                return directory
            }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug")
    }

    /// Runs one of the package's executables with `arguments`, feeding `stdin`, and returns its output.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: String = "", environment: [String: String] = [:]
    ) async throws -> Output {
        try await runSystem(
            binDirectory.appendingPathComponent(executable).path, arguments, stdin: stdin, environment: environment)
    }

    /// Runs one of the package's executables on a pseudo-terminal (through util-linux `script`), so that it sees
    /// a terminal on standard input and output as a member at a keyboard does; its output (standard output and
    /// error together, with the terminal's `\r\n` made `\n`) comes back in `stdout`.
    ///
    /// `answers` are typed like a member would: each line only once the output shows its prompt (typing ahead
    /// would be lost, since a password prompt flushes what was typed before it).
    public static func runInTerminal(
        _ executable: String, _ arguments: [String], answers: [(prompt: String, line: String)] = [],
        environment: [String: String] = [:]
    ) async throws -> Output {
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = ([binDirectory.appendingPathComponent(executable).path] + arguments).map(quoted)
            .joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        // What has been printed, and how many answers have been typed; the output handler types the next answer
        // once its prompt appears after the previous one.
        let state = LockedBox((printed: "", answered: 0, searchFrom: "".startIndex))
        let writer = input.fileHandleForWriting
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else { return }
            let toType: [String] = state.update { state in
                state.printed += String(decoding: data, as: UTF8.self)
                var typed: [String] = []
                while state.answered < answers.count,
                    let found = state.printed.range(
                        of: answers[state.answered].prompt, range: state.searchFrom..<state.printed.endIndex)
                {
                    typed.append(answers[state.answered].line + "\n")
                    state.searchFrom = found.upperBound
                    state.answered += 1
                }
                return typed
            }
            for line in toType { writer.write(Data(line.utf8)) }
        }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
            }
        }
        output.fileHandleForReading.readabilityHandler = nil
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        try? writer.close()
        let printed = state.value.printed + String(decoding: rest, as: UTF8.self)
        return Output(status: status, stdout: printed.replacingOccurrences(of: "\r\n", with: "\n"), stderr: "")
    }

    /// Runs any program by path (for example `/usr/bin/openssl`).
    public static func runSystem(
        _ path: String, _ arguments: [String], stdin: String = "", environment: [String: String] = [:]
    ) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
                input.fileHandleForWriting.write(Data(stdin.utf8))
                try? input.fileHandleForWriting.close()
            } catch {
                continuation.resume(throwing: error)
            }
        }
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Output(status: status, stdout: out, stderr: err)
    }

    /// Starts one of the package's executables in the background; its output goes to files that can be read
    /// while it runs.
    public static func start(_ executable: String, _ arguments: [String]) throws -> RunningProcess {
        try RunningProcess(path: binDirectory.appendingPathComponent(executable).path, arguments: arguments)
    }
}

/// A process started by ``CLIRunner/start(_:_:)``.
public final class RunningProcess: @unchecked Sendable {
    let process = Process()
    let outputURL: URL
    let errorURL: URL

    init(path: String, arguments: [String]) throws {
        let folder = TemporaryDirectory.make(prefix: "process")
        outputURL = folder.appendingPathComponent("stdout")
        errorURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
    }

    /// What it has printed so far.
    public var stdout: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }

    /// Waits up to `timeout` for `text` in its standard output.
    public func waitFor(_ text: String, within timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stdout.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return stdout.contains(text)
    }

    /// Sends `signal` (such as SIGINT) and waits up to `timeout` for the exit; returns its status, or nil if it
    /// is still running (it is then killed).
    public func stop(_ signal: Int32 = SIGINT, within timeout: Duration = .seconds(10)) async -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            process.terminate()
            return nil
        }
        return process.terminationStatus
    }
}
