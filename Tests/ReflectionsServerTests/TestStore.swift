import Foundation
import ReflectionsServer
import ReflectionsTestSupport

/// Opens a live server's database beside it, as the `reflectd user …` commands do.
enum ReflectionsServerTestStore {
    static func open(_ server: LiveServer) throws -> SQLiteStore {
        try SQLiteStore(path: server.dataDirectory.appendingPathComponent("reflectd.sqlite").path)
    }
}
