import Logging
import ReflectionsModel
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
                    // Started again after a failure: without it, commits by other processes or servers would
                    // reach streams only at their heartbeat.
                    while !Task.isCancelled {
                        do {
                            try await store.watchChanges { hub.notify() }
                        } catch is CancellationError {
                            return
                        } catch {
                            logger.error("Watching for changes failed: \(String(reflecting: error)); again in 5 s")
                        }
                        hub.notify()
                        try? await Task.sleep(for: .seconds(5))
                    }
                }
            }
        }
        hub.closeAll()
    }
}

/// Compacts on a schedule (`reflectd serve --compact-every`), in the same short batches as `reflectd compact`.
struct ScheduledCompaction: Service {
    let store: any ServerStore
    let schedule: CompactionSchedule
    let logger: Logger

    func run() async throws {
        let (store, schedule, logger) = (store, schedule, logger)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: schedule.every)
                    let report = try await store.compact(keepDays: schedule.keepDays, now: WallClock.system.now())
                    logger.info(
                        "Compacted: \(report.tombstones) tombstones, \(report.versions) versions, \(report.ledger) ledger entries, \(report.log) log rows; horizon \(report.horizon)"
                    )
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("Compaction failed: \(String(reflecting: error)); next at the next interval")
                }
            }
        }
    }
}
