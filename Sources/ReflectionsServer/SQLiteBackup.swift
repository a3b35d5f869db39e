import Foundation
import GRDB
import ReflectionsFiles
import ReflectionsModel

/// What a backup file holds, as `reflectd backup` and `reflectd restore` print it.
public struct BackupSummary: Codable, Sendable, Hashable {
    public var file: String
    public var bytes: Int64
    /// `ok`, or what SQLite's `integrity_check` found.
    public var integrity: String
    public var members: Int64
    public var reflections: Int64
    public var comments: Int64
    /// The newest change-log sequence number in it.
    public var head: Int64
    /// The database's epoch in the file (a restore gives the restored database a new one).
    public var epoch: String
    /// Whether the server's generated certificate and key were copied beside it (`FILE.tls-cert.pem`, …).
    public var certificate: Bool
}

/// Consistent copies of a running server's SQLite database, and data folders made from them.
///
/// `VACUUM INTO` copies one read snapshot of the database while the server goes on writing (WAL mode: it takes
/// no lock that blocks a push), so every push acknowledged before the backup started is in the copy, and none is
/// half in it. The copy is checked with `integrity_check` before it is reported.
public enum SQLiteBackup {
    /// Copies the database at `databasePath` (and the generated certificate and key in `dataDirectory`, if
    /// any) to `file`, which must not exist yet; returns what the copy holds.
    public static func backup(configuration: ServerConfiguration, to file: String) throws -> BackupSummary {
        guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
            throw ServerError(
                .notFound, "no_database", "There is no database at \(configuration.databasePath) to back up.")
        }
        if FileManager.default.fileExists(atPath: file) {
            throw ServerError(.conflict, "exists", "\(file) exists already: a backup never overwrites a file.")
        }
        var options = Configuration()
        options.busyMode = .timeout(30)
        options.readonly = true
        let source = try DatabaseQueue(path: configuration.databasePath, configuration: options)
        defer { try? source.close() }
        // An empty 0600 file first: VACUUM INTO fills an empty file, and the copy is never readable by others.
        try PrivateFiles.prepareFile(file)
        do {
            try source.inDatabase { db in try db.execute(sql: "VACUUM INTO ?", arguments: [file]) }
        } catch {
            try? FileManager.default.removeItem(atPath: file)
            throw error
        }
        var certificate = false
        let (cert, key) = (configuration.generatedCertificatePath, configuration.generatedKeyPath)
        if FileManager.default.fileExists(atPath: cert), FileManager.default.fileExists(atPath: key) {
            try PrivateFiles.write(try String(contentsOfFile: key, encoding: .utf8), to: file + ".tls-key.pem")
            try PrivateFiles.write(try String(contentsOfFile: cert, encoding: .utf8), to: file + ".tls-cert.pem")
            certificate = true
        }
        var summary = try inspect(file)
        summary.certificate = certificate
        return summary
    }

    /// Checks a backup file and says what it holds; throws if it is not a sound reflectd database.
    public static func inspect(_ file: String) throws -> BackupSummary {
        guard FileManager.default.fileExists(atPath: file) else {
            throw ServerError(.notFound, "no_backup", "There is no file at \(file).")
        }
        var options = Configuration()
        options.readonly = true
        let copy: DatabaseQueue
        do {
            copy = try DatabaseQueue(path: file, configuration: options)
        } catch {
            throw ServerError(.badRequest, "not_a_backup", "\(file) is not an SQLite database: \(error)")
        }
        defer { try? copy.close() }
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        return try copy.read { db in
            let integrity = (try? String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")) ?? ""
            guard integrity == "ok" else {
                throw ServerError(.badRequest, "damaged", "\(file) failed SQLite's integrity check: \(integrity)")
            }
            guard try db.tableExists("server_epoch"), try db.tableExists("change_log") else {
                throw ServerError(.badRequest, "not_a_backup", "\(file) is not a reflectd database (or too old).")
            }
            func count(_ sql: String) throws -> Int64 { try Int64.fetchOne(db, sql: sql) ?? 0 }
            return BackupSummary(
                file: file, bytes: (attributes[.size] as? NSNumber)?.int64Value ?? 0, integrity: integrity,
                members: try count("SELECT COUNT(*) FROM members"),
                reflections: try count("SELECT COUNT(*) FROM reflections"),
                comments: try count("SELECT COUNT(*) FROM comments"),
                head: try count("SELECT COALESCE(MAX(seq), 0) FROM change_log"),
                epoch: try String.fetchOne(db, sql: "SELECT epoch FROM server_epoch WHERE id = 1") ?? "",
                certificate: FileManager.default.fileExists(atPath: file + ".tls-cert.pem"))
        }
    }

    /// Sets up the data folder of `configuration` from a backup: refuses a folder that holds anything, checks the
    /// backup, copies it (and its certificate and key, if they were saved beside it) and gives the restored
    /// database a new epoch, so that every client that synced after the backup notices and re-sends what it lacks.
    public static func restore(from file: String, into configuration: ServerConfiguration) async throws
        -> BackupSummary
    {
        let folder = configuration.dataDirectory.path
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: folder), !entries.isEmpty {
            throw ServerError(
                .conflict, "not_empty",
                "\(folder) is not empty: a restore sets up a new data folder and never overwrites one.")
        }
        var summary = try inspect(file)
        try ReflectServer.prepareDataDirectory(configuration)
        try PrivateFiles.prepareFile(configuration.databasePath)
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        try data.write(to: URL(fileURLWithPath: configuration.databasePath))
        if summary.certificate {
            try PrivateFiles.write(
                try String(contentsOfFile: file + ".tls-key.pem", encoding: .utf8), to: configuration.generatedKeyPath)
            try PrivateFiles.write(
                try String(contentsOfFile: file + ".tls-cert.pem", encoding: .utf8),
                to: configuration.generatedCertificatePath)
        }
        let store = try SQLiteStore(path: configuration.databasePath)
        summary.epoch = try await store.renewEpoch(now: WallClock.system.now())
        try store.close()
        summary.file = configuration.databasePath
        return summary
    }
}
