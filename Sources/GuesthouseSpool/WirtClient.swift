#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The user's side of wirt (what `guesthouse wirt` runs, as the user): writes command files
/// atomically and reads status and logs.
public struct WirtClient: Sendable {
    /// The user's home directory.
    public var home: String

    public init(home: String) { self.home = home }

    /// The invoking user's home: `$HOME`, else the password database.
    public static func currentHome() -> String {
        if let h = ProcessInfo.processInfo.environment["HOME"], !h.isEmpty { return h }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return NSHomeDirectory()
    }

    var wirt: String { "\(home)/wirt" }
    func vmLog(_ vm: String) -> String { "\(wirt)/logs/vm/\(vm).log" }
    var spoolLog: String { "\(wirt)/logs/spool.log" }
    public func statusPath(_ vm: String) -> String { "\(wirt)/info/vm/\(vm)/status.xml" }

    /// Where the logs stand now, to find the lines a command adds.
    public struct Mark: Sendable {
        var vmLog: Int
        var spoolLog: Int
    }

    public func mark(vm: String) -> Mark {
        Mark(vmLog: Self.size(vmLog(vm)), spoolLog: Self.size(spoolLog))
    }

    /// Writes the command file `~/wirt/service/vm/<vm>/<command>` with `content`: first under a
    /// temporary dot-name the spool ignores, then renamed into place, so it is never seen half-written.
    /// - Throws: `WirtRefusal` for a bad VM name or command, or when the file cannot be written.
    public func send(vm: String, command: String, content: String = "") throws {
        guard WirtCommand.isValidVMName(vm) else {
            throw WirtRefusal("invalid VM name \(vm): use 1-32 letters, digits or '_'")
        }
        guard WirtCommand.names.contains(command) else { throw WirtRefusal("unknown command \(command)") }
        let dir = "\(wirt)/service/vm/\(vm)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = "\(dir)/.\(command).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(content.utf8)) else {
            throw WirtRefusal("cannot write \(tmp): \(errnoText())")
        }
        Self.stampNow(tmp)
        guard rename(tmp, "\(dir)/\(command)") == 0 else {
            let e = errnoText()
            unlink(tmp)
            throw WirtRefusal("cannot write \(dir)/\(command): \(e)")
        }
    }

    /// Waits until a log line about `command` on `vm` appears after `mark`, polling, at most `timeout`
    /// seconds. Returns the line, or nil on timeout.
    public func waitForResult(vm: String, command: String, after mark: Mark, timeout: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        let needles = [" \(vm) \(command) ", " \(vm) service/vm/\(vm)/\(command) ", " - service/vm/\(vm) "]
        repeat {
            for (path, offset) in [(vmLog(vm), mark.vmLog), (spoolLog, mark.spoolLog)] {
                for line in Self.lines(path, from: offset) where needles.contains(where: { line.contains($0) }) {
                    return line
                }
            }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    /// The guest's `status.xml`, or nil when the spool has not written one (no such guest, or no spool).
    public func status(vm: String) -> String? {
        try? String(contentsOfFile: statusPath(vm), encoding: .utf8)
    }

    /// The last `count` lines of the VM's log.
    public func log(vm: String, count: Int = 50) -> [String] {
        Array(Self.lines(vmLog(vm), from: 0).suffix(count))
    }

    /// Sets the file's modification time to the clock's nanosecond reading: file systems stamp
    /// with a coarser tick, and two commands written in one tick must still sort in order.
    public static func stampNow(_ path: String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var times = [now, now]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    /// The size of the file at `path` in bytes, 0 when it cannot be read.
    public static func size(_ path: String) -> Int {
        var s = stat()
        return stat(path, &s) == 0 ? Int(s.st_size) : 0
    }

    static func lines(_ path: String, from offset: Int) -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = Self.size(path)
        // A rotated log is shorter than the mark: read it from the start.
        let start = size < offset ? 0 : offset
        try? handle.seek(toOffset: UInt64(start))
        guard let data = try? handle.readToEnd() else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
