import Foundation
import Synchronization

/// `reflectd serve` as a real child process, for graceful-stop and crash tests.
public final class ServerProcess: Sendable {
    public let process: Process
    public let port: Int
    public let fingerprint: String
    public let dataDirectory: URL
    private let output: OutputBuffer

    /// `https://127.0.0.1:PORT`
    public var baseURL: String { "https://127.0.0.1:\(port)" }

    /// The certificate the server serves (made in its data folder on first start).
    public var certificatePEM: String {
        (try? String(contentsOf: dataDirectory.appendingPathComponent("tls-cert.pem"), encoding: .utf8)) ?? ""
    }

    /// Everything the process printed so far.
    public var printed: String { output.text }

    private init(process: Process, port: Int, fingerprint: String, dataDirectory: URL, output: OutputBuffer) {
        self.process = process
        self.port = port
        self.fingerprint = fingerprint
        self.dataDirectory = dataDirectory
        self.output = output
    }

    /// Starts `reflectd serve` on a free port and waits until it listens.
    public static func start(
        dataDirectory: URL, port: Int = 0, arguments: [String] = [], environment extra: [String: String] = [:]
    ) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = CLIRunner.binDirectory.appendingPathComponent("reflectd")
        process.arguments = ["serve", "--data", dataDirectory.path, "--port", String(port)] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "warning"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let text = OutputBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { text.append(String(decoding: data, as: UTF8.self)) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let printed = text.text
            if let range = printed.range(of: "serving https://127.0.0.1:"),
                let bound = Int(printed[range.upperBound...].prefix(while: \.isNumber)),
                let pin = printed.split(whereSeparator: \.isWhitespace).first(where: {
                    $0.hasPrefix("sha256:") && $0.count >= 71
                })
            {
                return ServerProcess(
                    process: process, port: bound, fingerprint: String(pin.prefix(7 + 64)),
                    dataDirectory: dataDirectory,
                    output: text)
            }
            if !process.isRunning { throw TestFailure("reflectd exited: \(printed)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw TestFailure("reflectd did not start in 30 s: \(text.text)")
    }

    /// Sends SIGTERM and waits for the exit status.
    public func stop() async -> Int32 {
        process.terminate()
        return await waitForExit()
    }

    /// Sends SIGKILL (a crash) and waits until the process is gone.
    public func kill() async {
        Foundation.kill(process.processIdentifier, SIGKILL)
        _ = await waitForExit()
    }

    /// Waits without blocking a cooperative thread.
    public func waitForExit() async -> Int32 {
        while process.isRunning {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }
}

/// Text a child process printed, collected from its pipe's handler.
final class OutputBuffer: Sendable {
    private let mutex = Mutex("")
    var text: String { mutex.withLock { $0 } }
    func append(_ more: String) { mutex.withLock { $0 += more } }
}
