import Foundation
import GRDB
import ReflectionsClient

/// The compaction step: database bytes per record before and after deleting a fifth of the reflections and
/// compacting (`reflectd compact --keep-days 0`, as a separate process beside the running server), the time to
/// compact, and the time of the snapshot resync that the reader's next sync then makes (its cursor is below the
/// new horizon). SQLite only: it reads the server's data folder.
extension ReflectBench {
    func compactionStep(
        data: String, workload: Workload, devices: [BenchDevice], reader: BenchDevice
    ) async throws -> [String: Double] {
        let database = data + "/reflectd.sqlite"
        func sizes() throws -> (file: Double, live: Double) {
            let file = [database, database + "-wal"].reduce(0.0) { total, path in
                total
                    + Double(
                        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0)
            }
            var options = Configuration()
            options.readonly = true
            let queue = try DatabaseQueue(path: database, configuration: options)
            defer { try? queue.close() }
            let free = try queue.read { db in
                Double(try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0)
                    * Double(try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096)
            }
            return (file, max(0, file - free))
        }
        let records = Double(workload.reflections.count + workload.comments.count)
        let before = try sizes()
        var deleted = 0
        for (index, r) in workload.reflections.enumerated() where index % 5 == 2 {
            if (try? devices[r.author].store.delete(.reflection, id: r.id)) != nil { deleted += 1 }
        }
        for device in devices { try await device.engine.pushOnly() }
        let afterDelete = try sizes()
        let reflectd = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("reflectd").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: reflectd)
        process.arguments = ["compact", "--data", data, "--keep-days", "0", "--json"]
        process.standardOutput = FileHandle.nullDevice
        let (_, compactSeconds) = try await Stats.time {
            try process.run()
            process.waitUntilExit()
        }
        let afterCompact = try sizes()
        let (summary, resyncSeconds) = try await Stats.time { try await reader.engine.sync() }
        return [
            "bytes_per_record_before": before.file / records,
            "deleted_reflections": Double(deleted),
            "bytes_per_record_after_delete": afterDelete.file / records,
            "live_bytes_per_record_after_compact": afterCompact.live / records,
            "file_bytes_per_record_after_compact": afterCompact.file / records,
            "compact_seconds": compactSeconds, "compact_status": Double(process.terminationStatus),
            "resync_seconds": resyncSeconds, "resync_records": Double(summary.resync?.received ?? 0),
            "resync_records_per_s": Double(summary.resync?.received ?? 0) / max(resyncSeconds, 0.000_001),
        ]
    }
}
