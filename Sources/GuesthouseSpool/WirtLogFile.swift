#if canImport(Glibc)
import Glibc
#endif
internal import CZlib
import Foundation

/// Appends lines to a log in a root-owned directory, rotating it past a size into gzipped
/// generations `NAME.1.gz` (newest) ... `NAME.<keep>.gz`.
enum WirtLogFile {
    static func append(_ line: String, to name: String, in dir: DirFD, maxBytes: Int, keep: Int) throws {
        let fd = try dir.openAppend(name)
        var s = Glibc.stat()
        let size = fstat(fd, &s) == 0 ? Int(s.st_size) : 0
        close(fd)
        if size >= maxBytes {
            rotate(name, in: dir, keep: keep)
        }
        let out = try dir.openAppend(name)
        defer { close(out) }
        guard writeAll(out, Array(line.utf8)) else { throw WirtRefusal("cannot write \(dir.path)/\(name)") }
    }

    static func rotate(_ name: String, in dir: DirFD, keep: Int) {
        guard keep > 0 else { dir.unlink(name); return }
        dir.unlink("\(name).\(keep).gz")
        if keep > 1 {
            for i in stride(from: keep - 1, through: 1, by: -1) {
                _ = renameat(dir.fd, "\(name).\(i).gz", dir.fd, "\(name).\(i + 1).gz")
            }
        }
        let input = openat(dir.fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard input >= 0 else { return }
        defer { close(input) }
        let tmp = ".\(name).1.gz.tmp"
        dir.unlink(tmp)
        let output = openat(dir.fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard output >= 0 else { return }
        guard let gz = gzdopen(output, "wb6") else { close(output); return }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var ok = true
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = n == 0; break }
            let written = buffer.withUnsafeBytes { gzwrite(gz, $0.baseAddress!, UInt32(n)) }
            if written != Int32(n) { ok = false; break }
        }
        if gzclose(gz) != Z_OK { ok = false }
        if ok, renameat(dir.fd, tmp, dir.fd, "\(name).1.gz") == 0 {
            dir.unlink(name)
        } else {
            dir.unlink(tmp)
            dir.unlink(name)
        }
    }
}
