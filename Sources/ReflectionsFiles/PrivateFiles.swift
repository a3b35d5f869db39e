import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps members' data readable by its owner alone, whatever the folder it lives in.
///
/// The server's database (password hashes, every private reflection), its key, and the client's database (a
/// bearer token, private text) are made mode 0600, their folders 0700. SQLite gives its `-wal` and `-shm` files
/// the mode of the database file, so making the database 0600 before SQLite opens it covers them too. A folder
/// that other users can write to is refused: they could replace the database or plant a link in its place.
public enum PrivateFiles {
    /// Why a folder or file cannot be made private.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public enum Code: String, Sendable {
            /// Other users can write to the folder.
            case folderWritableByOthers = "folder_writable_by_others"
            /// The folder or file could not be created or its mode set.
            case io
        }

        public var code: Code
        public var message: String
        public var description: String { message }
    }

    /// Creates `folder` (mode 0700) if needed; refuses one that others can write to.
    public static func prepareFolder(_ folder: URL) throws(Failure) {
        let path = folder.path
        var info = stat()
        if stat(path, &info) != 0 {
            do {
                try FileManager.default.createDirectory(
                    at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw Failure(code: .io, message: "Cannot create the folder \(path): \(error.localizedDescription)")
            }
            return
        }
        let mode = info.st_mode & 0o7777
        if mode & 0o002 != 0 {
            throw Failure(
                code: .folderWritableByOthers,
                message:
                    "The folder \(path) can be written by other users (mode \(String(mode, radix: 8))): make it private "
                    + "with 'chmod 700 \(path)', or choose another folder.")
        }
    }

    /// Makes the file at `path` (and its SQLite `-wal`, `-shm` and `-journal` companions, where they exist) mode
    /// 0600, creating it empty if it does not exist.
    public static func prepareFile(_ path: String) throws(Failure) {
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 {
            throw Failure(code: .io, message: "Cannot open \(path): \(String(cString: strerror(errno))).")
        }
        let changed = fchmod(fd, 0o600)
        close(fd)
        if changed != 0 {
            throw Failure(code: .io, message: "Cannot make \(path) private: \(String(cString: strerror(errno))).")
        }
        for suffix in ["-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: path + suffix) {
            if chmod(path + suffix, 0o600) != 0 {
                throw Failure(
                    code: .io, message: "Cannot make \(path + suffix) private: \(String(cString: strerror(errno))).")
            }
        }
    }
}
