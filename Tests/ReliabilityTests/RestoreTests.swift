import Foundation
import GRDB
import ReflectionsClient
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Synchronization
import Testing

/// Backups of a running server, and devices recovering after the server is restored from one (SQLite; the
/// README gives the PostgreSQL commands, and `reflectd mark-restored` gives the same client recovery).
@Suite(.serialized) struct RestoreTests {
    @Test func devicesThatSyncedAfterTheBackupSendBackWhatTheRestoredServerLacks() async throws {
        var server = try await LiveServer.start(database: .sqlite)
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        let bo = try await Device.make(server, handle: "bo.k", register: true)

        // Before the backup.
        let kept = try laptop.store.write(title: "Kept", body: "Written before the backup.\n", visibility: .community)
        let deletedLater = try laptop.store.write(title: "Gone later", body: "Deleted after the backup.\n")
        for home in [laptop, phone, bo] { try await home.sync() }
        let backup = TemporaryDirectory.make(prefix: "backup").appendingPathComponent("reflect.sqlite").path
        let summary = try SQLiteBackup.backup(
            configuration: ServerConfiguration(dataDirectory: server.dataDirectory), to: backup)
        #expect(summary.integrity == "ok")
        #expect(summary.reflections == 2)
        #expect(summary.certificate)

        // After the backup: a new reflection, an edit, a delete, and Bo's comment; everyone synced.
        let newer = try laptop.store.write(
            title: "Newer", body: "Written after the backup.\n", visibility: .community)
        _ = try laptop.store.edit(id: kept.id, body: "Written before the backup, edited after it.\n")
        try laptop.store.delete(.reflection, id: deletedLater.id)
        try await laptop.sync()
        try await bo.sync()
        let comment = try bo.store.comment(on: kept.id, body: "Bo's comment after the backup.")
        try await bo.sync()
        for home in [laptop, phone] { try await home.sync() }
        let before = try phone.texts()
        #expect(before[newer.id] != nil && before[comment.id] != nil && before[deletedLater.id] == nil)

        // The server is restored from the backup, on the same address (and, from the backup, the same pin).
        let port = server.port
        try await server.stop()
        let restored = TemporaryDirectory.make(prefix: "restored")
        try FileManager.default.removeItem(at: restored)
        let afterRestore = try await SQLiteBackup.restore(
            from: backup, into: ServerConfiguration(dataDirectory: restored))
        #expect(afterRestore.epoch != summary.epoch)
        server = try await LiveServer.start(dataDirectory: restored, port: port, database: .sqlite)

        // A restore ends every session (those ended after the backup must not come back): members log in again.
        await #expect(throws: ClientError.self) { try await phone.sync() }
        for (home, handle) in [(phone, "amara"), (laptop, "amara"), (bo, "bo.k")] { try await home.login(handle) }

        // Written on the phone while the server was away: a comment on a reflection the restored server lacks.
        let offlineComment = try phone.store.comment(on: newer.id, body: "A comment written while it was away.")

        // Each device notices on its next sync, resyncs, and sends back what it wrote that the server lacks (the
        // reflection before the comment that depends on it).
        let phoneSync = try await phone.sync()
        #expect(phoneSync.rejected == 0)
        #expect(phoneSync.resync != nil)
        let laptopSync = try await laptop.sync()
        #expect(laptopSync.resync != nil)
        let boSync = try await bo.sync()
        #expect(boSync.resync?.resent == 1)
        for home in [phone, laptop, bo, phone, laptop] { try await home.sync() }

        // Nothing is lost: every device shows what it showed before the restore, and the comment written meanwhile.
        var expected = before
        expected[offlineComment.id] = "A comment written while it was away."
        for home in [laptop, phone] { #expect(try home.texts() == expected) }
        let boSees = try bo.texts()
        #expect(boSees[kept.id] == "Written before the backup, edited after it.\n")
        #expect(boSees[newer.id] == "Written after the backup.\n")
        #expect(boSees[comment.id] == "Bo's comment after the backup.")
        #expect(boSees[deletedLater.id] == nil)
        // And a device that never saw the restore's first version gets it all from the server alone.
        let fresh = try await Device.make(server, handle: "amara", register: false)
        try await fresh.sync()
        #expect(try fresh.texts() == expected)
        #expect(try laptop.store.events(limit: 200).contains { $0.outcome == "resync" })
        for home in [laptop, phone, bo, fresh] { try await home.close() }
        try await server.stop()
    }

    /// After a restore the server gives out version numbers again: a device whose text came from the old history
    /// and one whose text came from the new one hold the same version number with different words. Both are kept
    /// (merged, or one as a conflict revision), never one silently over the other.
    @Test func sameVersionNumbersFromTwoHistoriesKeepBothTexts() async throws {
        var server = try await LiveServer.start(database: .sqlite)
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        let record = try laptop.store.write(title: "Allyship", body: "First line.\n")
        try await laptop.sync()
        try await phone.sync()
        let backup = TemporaryDirectory.make(prefix: "backup-2").appendingPathComponent("b.sqlite").path
        _ = try SQLiteBackup.backup(configuration: ServerConfiguration(dataDirectory: server.dataDirectory), to: backup)

        // After the backup the laptop's edit reaches the server (version 2); the phone edits offline.
        _ = try laptop.store.edit(id: record.id, body: "Laptop words after the backup.\n")
        try await laptop.sync()
        _ = try phone.store.edit(id: record.id, body: "Phone words written offline.\n")

        server = try await Self.restore(server, from: backup)
        for home in [phone, laptop] { try await home.login("amara") }
        // The phone comes back first: its edit becomes version 2 of the new history; then the laptop, whose own
        // version 2 holds other words.
        try await phone.sync()
        try await laptop.sync()
        for home in [phone, laptop, phone] { try await home.sync() }

        for home in [laptop, phone] {
            let local = try home.store.reflection(id: record.id)
            let texts = [local.reflection.body] + local.revisions.map(\.fields.body)
            #expect(texts.contains { $0.contains("Laptop words after the backup.") }, "\(texts)")
            #expect(texts.contains { $0.contains("Phone words written offline.") }, "\(texts)")
        }
        for home in [laptop, phone] { try await home.close() }
        try await server.stop()
    }

    /// A restored server that was then compacted answers the device's pull "expired" (410) before it could say
    /// "restored" (409): the resync still treats it as a restore, from the epoch, and sends back what this device
    /// wrote after the backup instead of dropping it.
    @Test func aRestoreSeenFirstAsAnExpiredCursorStillSendsBackWhatTheServerLacks() async throws {
        var server = try await LiveServer.start(database: .sqlite)
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        _ = try laptop.store.write(title: "Before", body: "Written before the backup.\n")
        try await laptop.sync()
        let backup = TemporaryDirectory.make(prefix: "backup-3").appendingPathComponent("b.sqlite").path
        _ = try SQLiteBackup.backup(configuration: ServerConfiguration(dataDirectory: server.dataDirectory), to: backup)
        let after = try laptop.store.write(title: "After", body: "Written after the backup, only here.\n")
        try await laptop.sync()

        server = try await Self.restore(server, from: backup)
        for home in [phone, laptop] { try await home.login("amara") }
        // The phone writes and deletes enough on the restored server, and it compacts, so that the horizon passes
        // the laptop's cursor.
        let cursor = try laptop.store.settings().cursor
        for n in 0...Int(cursor) + 2 { _ = try phone.store.write(title: "Phone \(n)", body: "Words.\n") }
        let doomed = try phone.store.write(title: "Doomed", body: "Deleted.\n")
        try await phone.sync()
        try phone.store.delete(.reflection, id: doomed.id)
        try await phone.sync()
        let report = try await server.store.compact(keepDays: 0, now: WallClock.system.now() + 1)
        #expect(report.horizon > cursor)

        let sync = try await laptop.sync()
        #expect(sync.resync?.reason == .restored)
        try await phone.sync()
        #expect(try phone.body(after.id) == "Written after the backup, only here.\n")
        #expect(try laptop.body(after.id) == "Written after the backup, only here.\n")
        for home in [laptop, phone] { try await home.close() }
        try await server.stop()
    }

    /// Stops `server`, restores `backup` into a new data folder and starts a server on it at the same address.
    static func restore(_ server: LiveServer, from backup: String) async throws -> LiveServer {
        let port = server.port
        try await server.stop()
        let restored = TemporaryDirectory.make(prefix: "restored")
        try FileManager.default.removeItem(at: restored)
        _ = try await SQLiteBackup.restore(from: backup, into: ServerConfiguration(dataDirectory: restored))
        return try await LiveServer.start(dataDirectory: restored, port: port, database: .sqlite)
    }

    /// `VACUUM INTO` while four members push: every push acknowledged before the backup started is in the copy.
    @Test func aBackupTakenUnderLoadHoldsEveryAcknowledgedWrite() async throws {
        let server = try await LiveServer.start(database: .sqlite)
        let client = try TestHTTPClient(server: server)
        var sessions: [SessionResponse] = []
        for n in 0..<4 { sessions.append(try await client.member("pusher\(n)")) }
        let acknowledged = LockedBox<Set<UUID>>([])
        let stop = LockedBox(false)
        let pushers = sessions.map { session in
            Task {
                var device = MutationFactory()
                while !stop.value {
                    let batch = (0..<10).map { _ in device.createReflection(body: "Under load.\n") }
                    let results = try await client.push(batch, client: device.clientID, token: session.token)
                    let applied = results.filter { $0.outcome == .applied }.map(\.mutationID)
                    acknowledged.update { $0.formUnion(applied) }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        let ackedBefore = acknowledged.value
        let file = TemporaryDirectory.make(prefix: "backup-load").appendingPathComponent("b.sqlite").path
        let summary = try SQLiteBackup.backup(
            configuration: ServerConfiguration(dataDirectory: server.dataDirectory), to: file)
        try await Task.sleep(for: .milliseconds(300))
        stop.update { $0 = true }
        for pusher in pushers { try await pusher.value }
        #expect(summary.integrity == "ok")
        let inCopy = try await DatabaseQueue(path: file).read { db in
            Set(
                try String.fetchAll(db, sql: "SELECT mutation_id FROM applied_mutations").compactMap {
                    UUID(uuidString: $0)
                })
        }
        #expect(!ackedBefore.isEmpty)
        #expect(ackedBefore.isSubset(of: inCopy))
        #expect(Int64(inCopy.count) == summary.reflections)
        Reliability.record(
            "backup under load",
            [
                "pushers": 4, "acknowledged_before": ackedBefore.count,
                "acknowledged_before_in_copy": ackedBefore.intersection(inCopy).count,
                "reflections_in_copy": Int(summary.reflections),
            ])
        try await client.shutdown()
        try await server.stop()
    }

    /// The commands: a summary, a file never overwritten, a folder never overwritten, a damaged file refused.
    @Test func reflectdBackupAndRestoreCommands() async throws {
        let server = try await ServerProcess.start(dataDirectory: TemporaryDirectory.make(prefix: "backup-cmd"))
        let folder = TemporaryDirectory.make(prefix: "backup-files")
        let file = folder.appendingPathComponent("b.sqlite").path
        let data = server.dataDirectory.path
        let backup = try await CLIRunner.run("reflectd", ["backup", "--data", data, "--to", file, "--json"])
        #expect(backup.status == 0, "\(backup.stderr)")
        let summary = try JSONDecoder().decode(BackupSummary.self, from: Data(backup.stdout.utf8))
        #expect(summary.integrity == "ok" && summary.certificate)
        let again = try await CLIRunner.run("reflectd", ["backup", "--data", data, "--to", file])
        #expect(again.status == 1)
        #expect(again.stderr.contains("never overwrites"))
        let postgres = try await CLIRunner.run(
            "reflectd", ["backup", "--data", data, "--database", "postgres://x@127.0.0.1/x", "--to", file + "2"])
        #expect(postgres.status == 64)
        #expect(postgres.stderr.contains("pg_dump"))

        let intoExisting = try await CLIRunner.run("reflectd", ["restore", "--from", file, "--data", data])
        #expect(intoExisting.status == 1)
        #expect(intoExisting.stderr.contains("not empty"))
        let damaged = folder.appendingPathComponent("damaged.sqlite").path
        try Data("not a database at all".utf8).write(to: URL(fileURLWithPath: damaged))
        let refused = try await CLIRunner.run(
            "reflectd", ["restore", "--from", damaged, "--data", folder.appendingPathComponent("x").path])
        #expect(refused.status == 1)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x/reflectd.sqlite").path))
        let target = folder.appendingPathComponent("restored").path
        let restored = try await CLIRunner.run("reflectd", ["restore", "--from", file, "--data", target])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("reflectd serve --data \(target)"))
        let pin = try await CLIRunner.run("reflectd", ["fingerprint", "--data", target])
        #expect(pin.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == server.fingerprint)
        _ = await server.stop()
    }

    /// `reflectd compact` beside a running server: a report, and a bad retention refused before anything runs.
    @Test func reflectdCompactCommand() async throws {
        let server = try await ServerProcess.start(dataDirectory: TemporaryDirectory.make(prefix: "compact-cmd"))
        let data = server.dataDirectory.path
        let compacted = try await CLIRunner.run("reflectd", ["compact", "--data", data, "--keep-days", "1", "--json"])
        #expect(compacted.status == 0, "\(compacted.stderr)")
        let report = try JSONDecoder().decode(CompactionReport.self, from: Data(compacted.stdout.utf8))
        #expect(report.tombstones == 0 && report.horizon == 0 && report.batches > 0)
        let refused = try await CLIRunner.run("reflectd", ["compact", "--data", data, "--keep-days", "-1"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--keep-days"))
        let badSchedule = try await CLIRunner.run("reflectd", ["serve", "--data", data, "--compact-every", "-1"])
        #expect(badSchedule.status == 64)
        _ = await server.stop()
    }
}
