import ArgumentParser
import Foundation
import ReflectionsClient
import ReflectionsPage

/// `reflect ui`: the member's page, served from this device.
struct UI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Read and write your reflections on a page in your browser (works offline).",
        discussion: """
            Starts a small web server on this computer only (127.0.0.1) and prints the address to open; the \
            first line is always 'Open http://127.0.0.1:PORT/open?key=…'. The key in that address is new at \
            every start and opens your writing: keep it to yourself. The page reads and writes this home's \
            store, so it works with no network; changes are synced in the background whenever the server can \
            be reached. Ctrl-C stops it.

              reflect ui
              reflect ui --port 8765 --open
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The port on 127.0.0.1 (default: a free one).") var port = 0
    @Flag(help: "Open the page in the browser (with xdg-open), where there is one.") var open = false

    func validate() throws {
        // Not below 1024: those need root, and at 80 browsers leave the port out of the address the page checks.
        guard port == 0 || (1024...65535).contains(port) else {
            throw ArgumentParser.ValidationError("--port must be 0 (a free one) or between 1024 and 65535.")
        }
    }

    func run() async throws {
        try await runReporting {
            let home = Home(store: try global.openInitializedStore())
            let server = try PageServer(home: home)
            let open = self.open
            try await closing(home) {
                try await server.run(port: port, watch: true) { address in
                    print("Open \(address)")
                    print(
                        "This page shows your writing on this computer only. Keep the address to yourself; Ctrl-C stops."
                    )
                    fflush(nil)
                    if open { Self.launchBrowser(address, home: home.store, folder: global.homeURL) }
                }
            }
        }
    }

    /// Opens the page through a file in the home folder (0600 in a 0700 folder) that redirects to it: the key
    /// never appears on a command line, which other users of the machine can read (`/proc/*/cmdline`).
    static func launchBrowser(_ address: String, home: ClientStore, folder: URL) {
        let opener = "/usr/bin/xdg-open"
        guard FileManager.default.isExecutableFile(atPath: opener) else {
            FileHandle.standardError.write(
                Data("reflect: no browser opener (xdg-open) here: open the address yourself.\n".utf8))
            return
        }
        let file = folder.appendingPathComponent("open-page.html")
        let html =
            "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=\(address)\">"
            + "<title>Reflections</title><a href=\"\(address)\">Open your reflections</a>\n"
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data(html.utf8), attributes: [.posixPermissions: 0o600])
        else {
            FileHandle.standardError.write(
                Data("reflect: could not write \(file.path): open the address yourself.\n".utf8))
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opener)
        process.arguments = [file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }
}
