import Logging
import ServiceLifecycle

/// The background work of change streams, run beside the HTTP server: heartbeats, and waking streams for commits
/// made by other processes or servers (``ServerStore/watchChanges(_:)``). Ends on graceful shutdown; the streams
/// themselves end on the HTTP server's graceful shutdown.
struct ChangeWatcher: Service {
    let hub: EventHub
    let store: any ServerStore
    let logger: Logger

    func run() async throws {
        let (hub, store, logger) = (hub, store, logger)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await hub.runHeartbeat() }
                group.addTask {
                    do {
                        try await store.watchChanges { hub.notify() }
                    } catch is CancellationError {
                    } catch {
                        logger.error("Watching for changes stopped: \(String(reflecting: error))")
                    }
                }
            }
        }
        hub.closeAll()
    }
}
