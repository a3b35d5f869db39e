import GRDB

extension SQLiteStore {
    /// The server's migrations: each runs the text of one file of `Schema/server/`, never edited once merged.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in ServerSchema.migrations {
            migrator.registerMigration(migration.name) { db in
                try db.execute(sql: migration.sql)
            }
        }
        return migrator
    }
}
