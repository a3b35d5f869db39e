import ArgumentParser
import Foundation
import ReflectionsClient
import ReflectionsModel

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set up this home for a server, trusting only the certificate you name.",
        discussion: """
            Give exactly one of --pin (the SHA-256 fingerprint that 'reflectd serve' prints; checked once now, \
            and the certificate is then this home's only trust root) or --ca (a PEM file of the CA or certificate \
            to trust). Certificates are never accepted unchecked.

            --device-name names this device ('laptop', 'ward phone'): conflicts on your other devices then say \
            "edited on your laptop" instead of "your other device".

              reflect init --server https://127.0.0.1:8443 --pin sha256:3f… --device-name laptop
              reflect init --server https://reflect.example.org:8443 --ca ./community-ca.pem
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The server, as https://HOST:PORT.") var server: String
    @Option(help: "A PEM file of the CA (or certificate) to trust.") var ca: String?
    @Option(help: "The server certificate's SHA-256, as sha256:HEX.") var pin: String?
    @Option(
        name: .customLong("device-name"), help: "A name for this device, shown to you in conflicts (1–40 characters).")
    var deviceName: String?

    func validate() throws {
        if (ca == nil) == (pin == nil) {
            throw ArgumentParser.ValidationError(
                "Give exactly one of --pin sha256:HEX or --ca FILE.pem, to say which certificate to trust.")
        }
        if let deviceName {
            do {
                _ = try Validation.deviceName(deviceName)
            } catch {
                throw ArgumentParser.ValidationError("--device-name: \(error.message)")
            }
        }
    }

    func run() async throws {
        try await runReporting {
            let url = try ServerConnection.normalise(server)
            let trust: ServerTrust
            if let pin {
                trust = try await Home.trust(pin: pin, serverURL: url)
            } else {
                let path = URL(fileURLWithPath: ca!).standardizedFileURL.path
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw ClientError(.invalidInput, "Cannot read the CA file \(path).")
                }
                trust = .caFile(path)
            }
            let home = Home(store: try global.openStore())
            let settings = try await closing(home) {
                try home.setUp(serverURL: url, trust: trust, deviceName: deviceName)
                return try home.store.settings()
            }
            if global.json {
                try printJSON([
                    "home": global.homeURL.path, "server": url, "clientID": settings.clientID?.uuidString ?? "",
                ])
            } else {
                print(
                    "Set up \(global.homeURL.path) for \(url) (this device: \(settings.clientID?.uuidString ?? "?")).")
                print("Next: 'reflect register --user NAME' or 'reflect login --user NAME'.")
            }
        }
    }
}

/// `reflect account`: who this home belongs to, and the names others and you see.
struct Account: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show your account, or change your display name or this device's name.",
        discussion: """
            Your display name is shown beside everything you write, to every member who may read it. A change \
            reaches your other devices and other members on their next sync (the server sends your writing again \
            with the new name). The device name is yours alone: it names this device in conflicts.

              reflect account
              reflect account --display-name "Amara Okafor"
              reflect account --device-name "ward laptop"
            """)
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("display-name"), help: "Your new display name (1–100 characters; needs the server).")
    var displayName: String?
    @Option(name: .customLong("device-name"), help: "A new name for this device (1–40 characters; works offline).")
    var deviceName: String?

    func validate() throws {
        do {
            if let displayName { _ = try Validation.displayName(displayName) }
            if let deviceName { _ = try Validation.deviceName(deviceName) }
        } catch {
            throw ArgumentParser.ValidationError(error.message)
        }
    }

    func run() async throws {
        try await runReporting {
            let home = Home(store: try global.openInitializedStore())
            let settings = try await closing(home) {
                if let deviceName { try home.store.setDeviceName(deviceName) }
                if let displayName { try await home.updateDisplayName(displayName) }
                return try home.store.settings()
            }
            struct Shown: Encodable {
                var handle: String?
                var displayName: String?
                var role: String?
                var deviceName: String?
                var clientID: String?
                var server: String?
            }
            let shown = Shown(
                handle: settings.member?.handle, displayName: settings.member?.displayName,
                role: settings.member?.role.rawValue, deviceName: settings.deviceName,
                clientID: settings.clientID?.uuidString, server: settings.serverURL)
            if global.json { return try printJSON(shown) }
            if displayName != nil {
                print("Your display name is now '\(shown.displayName ?? "")'; others see it after their next sync.")
            }
            if deviceName != nil { print("This device is now called '\(shown.deviceName ?? "")'.") }
            guard displayName == nil && deviceName == nil else { return }
            print("handle:       \(shown.handle ?? "(not logged in)")")
            print("display name: \(shown.displayName ?? "-")")
            print("role:         \(shown.role ?? "-")")
            print("this device:  \(shown.deviceName ?? "(no name: 'reflect account --device-name NAME')")")
            print("server:       \(shown.server ?? "-")")
        }
    }
}

/// Options of register and login.
struct AccountOptions: ParsableArguments {
    @Option(help: "Your handle (3–32 of a-z 0-9 . _ -).") var user: String
    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input instead of the terminal.")
    var passwordStdin = false
}

struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create your account on the server, then log in.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var account: AccountOptions
    @Option(name: .customLong("display-name"), help: "The name shown beside your writing (default: the handle).")
    var displayName: String?

    /// The handle and display name are checked before the password is asked for.
    func validate() throws {
        do {
            _ = try Validation.handle(account.user)
            if let displayName { _ = try Validation.displayName(displayName) }
        } catch {
            throw ArgumentParser.ValidationError(error.message)
        }
    }

    func run() async throws {
        try await runReporting {
            let home = Home(store: try global.openInitializedStore())
            // Another member's home is refused before the password is asked for.
            try home.refuseOtherMember(account.user)
            let password = try readNewPassword(fromStdin: account.passwordStdin)
            let member = try await closing(home) {
                try await home.register(handle: account.user, password: password, displayName: displayName)
            }
            if global.json {
                try printJSON(member)
            } else {
                print("Registered and logged in as \(member.handle).")
            }
        }
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Log in to the server (needs the network).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var account: AccountOptions

    func run() async throws {
        try await runReporting {
            let home = Home(store: try global.openInitializedStore())
            let password = try readSecret(prompt: "Password for \(account.user): ", fromStdin: account.passwordStdin)
            let member = try await closing(home) { try await home.login(handle: account.user, password: password) }
            if global.json {
                try printJSON(member)
            } else {
                print("Logged in as \(member.handle).")
            }
        }
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End your session on the server and forget it here (your local writing stays).",
        discussion: """
            --everywhere ends every session of yours on the server, on all your devices: use it when a device \
            is lost or a token may have leaked. Each device keeps what it wrote and sends it after you log in \
            there again.

            --forget-local is for a shared computer: it syncs first, and only if everything you wrote is on \
            the server (nothing pending, rejected or in conflict) removes your writing from this computer. \
            Otherwise it removes nothing and says why.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "End every session of yours, on all your devices.") var everywhere = false
    @Flag(
        name: .customLong("forget-local"),
        help: "After a successful sync, remove your writing from this computer (a shared one).")
    var forgetLocal = false

    func run() async throws {
        try await runReporting {
            let home = Home(store: try global.openInitializedStore())
            if forgetLocal {
                // Everything must be on the server before anything is removed here, drafts included.
                let drafts = global.homeURL.appendingPathComponent("drafts")
                let kept = (try? FileManager.default.contentsOfDirectory(atPath: drafts.path)) ?? []
                if !kept.isEmpty {
                    throw ClientError(
                        .notAllowed,
                        "\(kept.count) draft(s) in \(drafts.path) are not on the server: send or move them first. "
                            + "Nothing was removed, and you are still logged in.")
                }
                do {
                    try await home.sync()
                    try home.store.forgetLocalWriting()
                } catch {
                    try? await home.close()
                    throw error
                }
            }
            let logout = try await closing(home) { try await home.logout(everywhere: everywhere) }
            let note =
                logout.serverSessionEnded
                ? ""
                : ". The server was not reached: this device has forgotten its token, but the session stays "
                    + "valid on the server until it has gone unused for 30 days (the default). If the token may "
                    + "have leaked, log in on another device and run 'reflect logout --everywhere'"
            let pending = logout.pending
            let serverSessionEnded = logout.serverSessionEnded
            if !global.json {
                print("Logged out\(note).")
                if forgetLocal { print("Your writing was removed from this computer; it is safe on the server.") }
                if pending > 0 {
                    print(
                        "\(pending) change(s) are not synced yet: they stay on this device and are sent after you "
                            + "log in here again.")
                }
            } else {
                try printJSON(["loggedOut": true, "serverSessionEnded": serverSessionEnded])
            }
        }
    }
}

struct Prompts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the prompts to reflect on.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await runReporting {
            let home = Home(store: try global.openStore())
            let prompts = try await closing(home) { await home.prompts() }
            if global.json { return try printJSON(prompts) }
            for prompt in prompts { print("\(prompt.id). \(prompt.text)") }
        }
    }
}

/// A new password: checked against the rules before anything is sent; at a terminal, asked twice.
func readNewPassword(fromStdin: Bool) throws -> String {
    let password = try readSecret(prompt: "New password (10+ characters): ", fromStdin: fromStdin)
    do {
        _ = try Validation.password(password)
    } catch {
        throw ClientError(.invalidInput, error.message)
    }
    if !fromStdin && isatty(STDIN_FILENO) == 1 {
        let again = try readSecret(prompt: "The same password again: ", fromStdin: false)
        guard again == password else {
            throw ClientError(.invalidInput, "The two passwords differ: run 'reflect register' again.")
        }
    }
    return password
}
