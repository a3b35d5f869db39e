import Foundation
import ReflectionsTestSupport

/// A client home driven through the real `reflect` executable, as a member at a shell drives it.
struct CLIHome {
    let path: String

    init(path: String = TemporaryDirectory.make(prefix: "cli").path) {
        self.path = path
    }

    /// Runs `reflect --home PATH ARGUMENTS…`.
    func run(_ arguments: [String], stdin: String = "") async throws -> CLIRunner.Output {
        try await CLIRunner.run("reflect", ["--home", path] + arguments, stdin: stdin)
    }

    /// A new home set up for `server` (pinning its certificate), optionally naming the device.
    static func initialized(for server: LiveServer, deviceName: String? = nil) async throws -> CLIHome {
        let home = CLIHome()
        let naming = deviceName.map { ["--device-name", $0] } ?? []
        let output = try await home.run(["init", "--server", server.baseURL, "--pin", server.fingerprint] + naming)
        guard output.status == 0 else { throw TestFailure("reflect init: \(output.stderr)") }
        return home
    }
}
