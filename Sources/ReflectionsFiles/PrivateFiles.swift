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
            /// The folder belongs to another user.
            case folderOfAnotherUser = "folder_of_another_user"
            /// The folder or file could not be created or its mode set.
            case io
        }

        public var code: Code
        public var message: String
        public var description: String { message }
    }

    /// Creates `folder` (mode 0700) if needed. An existing folder must belong to this user and not be writable by
    /// others (they could plant a link where the database goes); it is then made 0700.
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
        if info.st_uid != geteuid() {
            throw Failure(
                code: .folderOfAnotherUser,
                message:
                    "The folder \(path) belongs to another user (uid \(info.st_uid)): use a folder of your own, or "
                    + "run as its owner.")
        }
        if mode & 0o002 != 0 {
            throw Failure(
                code: .folderWritableByOthers,
                message:
                    "The folder \(path) can be written by other users (mode \(String(mode, radix: 8))): make it private "
                    + "with 'chmod 700 \(path)', or choose another folder.")
        }
        if mode & 0o077 != 0 && chmod(path, 0o700) != 0 {
            throw Failure(code: .io, message: "Cannot make \(path) private: \(String(cString: strerror(errno))).")
        }
    }

    /// Makes the file at `path` (and its SQLite `-wal`, `-shm` and `-journal` companions, where they exist) mode
    /// 0600, creating it empty if it does not exist. A symbolic link in any of their places is refused.
    public static func prepareFile(_ path: String) throws(Failure) {
        let fd = try openPrivate(path, flags: O_CREAT | O_WRONLY)
        close(fd)
        for suffix in ["-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: path + suffix) {
            close(try openPrivate(path + suffix, flags: O_RDONLY))
        }
    }

    /// Writes `text` to `path` through a descriptor that is 0600 before a byte is written (for keys).
    public static func write(_ text: String, to path: String) throws(Failure) {
        let fd = try openPrivate(path, flags: O_CREAT | O_WRONLY | O_TRUNC)
        defer { close(fd) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(code: .io, message: "Cannot write \(path): \(String(cString: strerror(errno))).")
            }
            bytes = bytes.dropFirst(written)
        }
        if fsync(fd) != 0 {
            throw Failure(code: .io, message: "Cannot write \(path): \(String(cString: strerror(errno))).")
        }
    }

    /// Opens a regular file without following a link, and makes it 0600 through the descriptor.
    private static func openPrivate(_ path: String, flags: Int32) throws(Failure) -> Int32 {
        let fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 {
            let reason = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
            throw Failure(code: .io, message: "Cannot open \(path): \(reason).")
        }
        var info = stat()
        if fstat(fd, &info) != 0 || info.st_mode & S_IFMT != S_IFREG {
            close(fd)
            throw Failure(code: .io, message: "Cannot use \(path): it is not a regular file.")
        }
        if fchmod(fd, 0o600) != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(code: .io, message: "Cannot make \(path) private: \(reason).")
        }
        return fd
    }
}

#if canImport(Glibc)
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    private let systemWrite = Darwin.write
#endif
