import Foundation
import Hummingbird
import Logging
import Mustache
import ReflectionsClient
import ReflectionsModel
import Synchronization

/// The member's page: a small HTTP server on 127.0.0.1, backed by the home's store, with the real-time sync loop
/// running behind it. It works with no network at all, since everything it reads and writes is the local store.
///
/// Plain HTTP, on loopback only: the page never leaves the machine, and a certificate for 127.0.0.1 would only
/// teach members to click through warnings. What guards it is ``PageSecurity`` (a per-launch secret, a form
/// token, the page's own host and origin) and ``PageGuard``. Another member's private writing can never be here,
/// because the store never holds it.
public final class PageServer: Sendable {
    public let home: Home
    public let security: PageSecurity
    let templates: MustacheLibrary
    let syncState = Mutex(SyncState.connecting)
    /// What the open tabs are told (live updates).
    let events = PageEvents()
    /// Editors (showings of a form) whose form was saved: a draft from one of them arriving late (a save on
    /// leaving the tab, a request in flight) is dropped instead of bringing saved text back as unsaved.
    let closedEditors = Mutex(Set<String>())

    /// The largest form the page reads (a reflection's text is far smaller).
    public static let maxFormBytes = 1024 * 1024

    /// What the sync loop last said, for the page's banner.
    enum SyncState: Sendable {
        case connecting
        case live
        case offline(String)
        case stopped(String)
        case notWatching
    }

    public init(home: Home, security: PageSecurity = PageSecurity()) throws {
        self.home = home
        self.security = security
        templates = try PageTemplates.library()
    }

    /// The address to open (the first visit trades the key for a cookie).
    public func address(port: Int) -> String {
        "http://127.0.0.1:\(port)\(security.base)/open?key=\(security.secret)"
    }

    /// Serves the page (and, with `watch`, runs the sync loop) until the task is cancelled or a signal stops it.
    public func run(
        port: Int = 0, watch: Bool = true, onReady: @escaping @Sendable (_ address: String) async -> Void
    ) async throws {
        var logger = Logger(label: "reflect-ui")
        logger.logLevel = .warning
        let security = self.security
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { [self] channel in
                let bound = channel.localAddress?.port ?? port
                security.bound(to: bound)
                await onReady(self.address(port: bound))
            },
            logger: logger)
        if !watch { syncState.withLock { $0 = .notWatching } }
        // The page lives as long as its server: the sync loop may stop (a session that ended) and the page stays,
        // saying so; when the server stops (Ctrl-C, cancellation), the loop goes with it.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
                return true
            }
            if watch {
                group.addTask {
                    await self.watchLoop()
                    return false
                }
            }
            while let serverEnded = try await group.next() {
                if serverEnded { break }
            }
            events.closeAll()
            group.cancelAll()
        }
    }

    /// The sync loop behind the page; it never stops the page (which works offline), it only says how it is.
    func watchLoop() async {
        do {
            let watcher = try home.watcher()
            try await watcher.run { [self] update in
                self.syncState.withLock { state in
                    switch update {
                    case .live, .synced: state = .live
                    case .offline(let error, _): state = .offline(error.message)
                    }
                }
                if case .synced(let summary, _) = update,
                    summary.pushed + summary.pulled + summary.conflicts + summary.rejected > 0
                {
                    self.events.changed()
                } else {
                    self.events.wake()
                }
            }
        } catch let error as ClientError {
            syncState.withLock { $0 = .stopped(Self.advice(error)) }
            events.wake()
        } catch {
            syncState.withLock { $0 = .stopped("Syncing stopped.") }
            events.wake()
        }
    }

    /// The page's own words for the member's next step (the library names no command or view).
    static func advice(_ error: ClientError) -> String {
        switch error.next {
        case .logIn?: "\(error.message) Log in again with reflect login, then reload."
        case .setUp?: "\(error.message) Set this home up with reflect init first."
        case .trustAgain?: "\(error.message) If the certificate changed on purpose, set up trust again."
        case .useAnotherHome?: "\(error.message) Start reflect ui with another home."
        default: error.message
        }
    }
}
