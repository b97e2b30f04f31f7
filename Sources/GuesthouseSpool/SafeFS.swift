#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// A refusal: why a file, directory or user was not acted on. The message is safe to show the user.
public struct WirtRefusal: Error, Sendable, CustomStringConvertible, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// What `fstat` says about an opened descriptor (or `fstatat` without following links).
struct FileInfo {
    var dev: UInt64
    var ino: UInt64
    var mode: UInt32
    var uid: UInt32
    var nlink: UInt64
    var size: Int64
    var mtime: timespec
    var ctime: timespec

    init(_ s: stat) {
        dev = UInt64(s.st_dev)
        ino = UInt64(s.st_ino)
        mode = UInt32(s.st_mode)
        uid = UInt32(s.st_uid)
        nlink = UInt64(s.st_nlink)
        size = Int64(s.st_size)
        mtime = s.st_mtim
        ctime = s.st_ctim
    }

    var type: UInt32 { mode & UInt32(S_IFMT) }
    var isRegular: Bool { type == UInt32(S_IFREG) }
    var isDirectory: Bool { type == UInt32(S_IFDIR) }
    var typeName: String {
        switch type {
        case UInt32(S_IFREG): "regular file"
        case UInt32(S_IFDIR): "directory"
        case UInt32(S_IFLNK): "symlink"
        case UInt32(S_IFIFO): "FIFO"
        case UInt32(S_IFCHR): "character device"
        case UInt32(S_IFBLK): "block device"
        case UInt32(S_IFSOCK): "socket"
        default: "special file"
        }
    }
    /// Modification time in nanoseconds since the epoch, for ordering.
    var mtimeNanos: Int64 { Int64(mtime.tv_sec) * 1_000_000_000 + Int64(mtime.tv_nsec) }
    var ctimeNanos: Int64 { Int64(ctime.tv_sec) * 1_000_000_000 + Int64(ctime.tv_nsec) }
    func sameFile(_ other: FileInfo) -> Bool { dev == other.dev && ino == other.ino }
}

/// An open directory descriptor. Everything below it is reached with `*at` calls that never follow
/// a symlink, so a user who swaps a path component for a link cannot redirect root elsewhere.
final class DirFD {
    let fd: Int32
    /// For messages only; never used to open anything.
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Opens an administrator-controlled absolute path (a home directory from the password database).
    static func openTrusted(_ path: String) throws -> DirFD {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw WirtRefusal("cannot open \(path): \(errnoText())") }
        return DirFD(fd: fd, path: path)
    }

    /// Opens the subdirectory `name` without following a symlink.
    func openDir(_ name: String) throws -> DirFD {
        let fd = openat(self.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ELOOP || e == ENOTDIR { throw WirtRefusal("\(path)/\(name) is not a directory (symlink or file)") }
            throw WirtRefusal("cannot open \(path)/\(name): \(errnoText(e))")
        }
        return DirFD(fd: fd, path: "\(path)/\(name)")
    }

    /// Opens `name`, creating it as root with `mode` (then handing it to `owner`, when given) if missing.
    func openOrMakeDir(_ name: String, mode: mode_t, owner: (uid: uid_t, gid: gid_t)?) throws -> DirFD {
        if mkdirat(fd, name, mode) == 0 {
            let d = try openDir(name)
            if let owner { guard fchown(d.fd, owner.uid, owner.gid) == 0 else { throw WirtRefusal("cannot chown \(d.path): \(errnoText())") } }
            _ = fchmod(d.fd, mode)
            return d
        }
        guard errno == EEXIST else { throw WirtRefusal("cannot create \(path)/\(name): \(errnoText())") }
        return try openDir(name)
    }

    func stat() throws -> FileInfo {
        var s = Glibc.stat()
        guard fstat(fd, &s) == 0 else { throw WirtRefusal("cannot stat \(path): \(errnoText())") }
        return FileInfo(s)
    }

    /// `lstat` of an entry: never follows a link.
    func lstat(_ name: String) -> FileInfo? {
        var s = Glibc.stat()
        guard fstatat(fd, name, &s, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return FileInfo(s)
    }

    /// The entries' names (without `.` and `..`, and without other dot-names when `skipDotNames`),
    /// at most `limit`; `truncated` says more exist. Reads at most `scanLimit` entries in all.
    func entries(limit: Int, skipDotNames: Bool = false, scanLimit: Int = 65536) -> (names: [String], truncated: Bool) {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return ([], false)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [String] = []
        var scanned = 0
        while let entry = readdir(dir) {
            scanned += 1
            if scanned > scanLimit { return (names, true) }
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            if skipDotNames && name.hasPrefix(".") { continue }
            if names.count >= limit { return (names, true) }
            names.append(name)
        }
        return (names, false)
    }

    /// Reads a regular file of at most `maxBytes` owned by `uid`, checking the opened descriptor,
    /// never the path: no symlink is followed, no FIFO or device is ever opened, no hard link accepted.
    func readUserFile(_ name: String, uid: uid_t, maxBytes: Int) throws -> (data: [UInt8], info: FileInfo) {
        // O_PATH opens the entry itself (even a symlink or a device) without any side effect.
        let pathFD = openat(fd, name, oPath | O_NOFOLLOW | O_CLOEXEC)
        guard pathFD >= 0 else { throw WirtRefusal("cannot open: \(errnoText())") }
        defer { close(pathFD) }
        var s = Glibc.stat()
        guard fstat(pathFD, &s) == 0 else { throw WirtRefusal("cannot stat: \(errnoText())") }
        let info = FileInfo(s)
        try Self.checkCommandFile(info, uid: uid, maxBytes: maxBytes)
        // Only now, the inode known to be a plain file of the user's, open it for reading.
        var readFD = open("/proc/self/fd/\(pathFD)", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        if readFD < 0 && errno == ENOENT {
            readFD = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        }
        guard readFD >= 0 else { throw WirtRefusal("cannot open: \(errnoText())") }
        defer { close(readFD) }
        var s2 = Glibc.stat()
        guard fstat(readFD, &s2) == 0 else { throw WirtRefusal("cannot stat: \(errnoText())") }
        let opened = FileInfo(s2)
        guard opened.sameFile(info) else { throw WirtRefusal("file changed while it was read") }
        try Self.checkCommandFile(opened, uid: uid, maxBytes: maxBytes)
        var data = [UInt8](repeating: 0, count: maxBytes + 1)
        var total = 0
        while total <= maxBytes {
            let n = data.withUnsafeMutableBytes { read(readFD, $0.baseAddress! + total, maxBytes + 1 - total) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw WirtRefusal("cannot read: \(errnoText())") }
            if n == 0 { break }
            total += n
        }
        guard total <= maxBytes else { throw WirtRefusal("file larger than \(maxBytes) bytes") }
        return (Array(data[0..<total]), opened)
    }

    static func checkCommandFile(_ info: FileInfo, uid: uid_t, maxBytes: Int) throws {
        guard info.isRegular else { throw WirtRefusal("not a regular file (\(info.typeName))") }
        guard info.uid == uid else { throw WirtRefusal("not owned by the user (owner uid \(info.uid))") }
        guard info.nlink == 1 else { throw WirtRefusal("hard link (\(info.nlink) links)") }
        guard info.size <= Int64(maxBytes) else { throw WirtRefusal("file larger than \(maxBytes) bytes") }
    }

    /// Creates (or truncates) a file in this root-owned directory and writes `data`, atomically via a
    /// temporary name and rename.
    func writeAtomically(_ name: String, _ data: [UInt8], mode: mode_t = 0o644) throws {
        let tmp = ".\(name).tmp"
        _ = unlinkat(fd, tmp, 0)
        let out = openat(fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard out >= 0 else { throw WirtRefusal("cannot create \(path)/\(tmp): \(errnoText())") }
        var ok = writeAll(out, data)
        _ = fchmod(out, mode)
        if close(out) != 0 { ok = false }
        guard ok, renameat(fd, tmp, fd, name) == 0 else {
            _ = unlinkat(fd, tmp, 0)
            throw WirtRefusal("cannot write \(path)/\(name): \(errnoText())")
        }
    }

    /// Opens `name` for appending (created `mode` if missing), never through a link.
    func openAppend(_ name: String, mode: mode_t = 0o644) throws -> Int32 {
        let out = openat(fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        guard out >= 0 else { throw WirtRefusal("cannot open \(path)/\(name): \(errnoText())") }
        var s = Glibc.stat()
        guard fstat(out, &s) == 0, FileInfo(s).isRegular else {
            close(out)
            throw WirtRefusal("\(path)/\(name) is not a regular file")
        }
        return out
    }

    func unlink(_ name: String) { _ = unlinkat(fd, name, 0) }
}

/// Writes all of `data` to `fd`; false on error.
func writeAll(_ fd: Int32, _ data: [UInt8]) -> Bool {
    var offset = 0
    while offset < data.count {
        let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + offset, data.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
    }
    return true
}

func errnoText(_ e: Int32 = errno) -> String {
    String(cString: strerror(e))
}

/// Linux's `O_PATH` (not exported by Swift's Glibc module): an fd naming the entry itself, with no
/// open side effect, usable for fstat.
let oPath: Int32 = 0o10000000
