#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
@testable import GuesthouseSpool
import Libvirt
import Logging
import Testing
import GuesthouseTestSupport

/// Collects swift-log messages (with their metadata) so tests can assert a reason was logged.
final class LogStore: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }
}

struct CaptureHandler: LogHandler {
    let store: LogStore
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        let meta = (metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        store.append("\(level) \(message) \(meta)")
    }
}

/// A scratch group with users, each with a test-driver guest `<user>-box`, and a spool on them.
final class Harness: @unchecked Sendable {
    let scratch: WirtScratch
    let users: [String]
    let outsiders: [String]
    let connection: Connection
    let spool: WirtSpool
    let logs = LogStore()
    /// What the spool's audit hook was told: "user vm command result".
    let audits = LogStore()

    /// `members` users in the group and `outsiders` users not in it, each with a shut-off `<user>-box`;
    /// `extraDomains` more (name, running).
    init(members: Int = 1, outsiders outsiderCount: Int = 0, extraUsers: [String] = [],
         extraDomains: [(String, Bool)] = [], configure: (inout WirtConfig) -> Void = { _ in }) throws {
        scratch = try WirtScratch(prefix: "wt")
        var users: [String] = []
        for _ in 0..<members { users.append(try scratch.addUser()) }
        for name in extraUsers { users.append(try scratch.addUser(name)) }
        var outsiders: [String] = []
        for i in 0..<outsiderCount { outsiders.append(try scratch.addUser("\(scratch.group)x\(i)", member: false)) }
        self.users = users
        self.outsiders = outsiders
        var domains = (users + outsiders).map { (name: "\($0)-box", running: false) }
        domains += extraDomains.map { (name: $0.0, running: $0.1) }
        let uri = try scratch.writeNode(domains: domains)
        let pool = ConnectionPool.standalone()
        // The spool's connection: the test driver keeps one state per connection.
        connection = try pool.connectionWaiting(uri: uri)
        var config = WirtConfig()
        config.group = scratch.group
        configure(&config)
        let store = logs
        let logger = Logger(label: "wirt.test", factory: { _ in CaptureHandler(store: store) })
        let audits = audits
        spool = WirtSpool(config: config, guests: LibvirtWirtGuests(pool: pool, executor: pool.executor, uri: uri), logger: logger,
                          audit: { user, vm, command, result in audits.append("\(user) \(vm) \(command) \(result)") })
    }

    deinit { scratch.remove() }

    var alice: String { users[0] }
    func home(_ user: String) -> String { scratch.home(user) }
    func vmDir(_ user: String, _ vm: String = "box") -> String { "\(home(user))/wirt/service/vm/\(vm)" }
    func vmLog(_ user: String, _ vm: String = "box") -> String { "\(home(user))/wirt/logs/vm/\(vm).log" }
    func spoolLog(_ user: String) -> String { "\(home(user))/wirt/logs/spool.log" }
    func status(_ user: String, _ vm: String = "box") -> String { "\(home(user))/wirt/info/vm/\(vm)/status.xml" }

    func ids(_ user: String) -> (uid_t, gid_t) {
        let pw = getpwnam(user)!
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    func state(_ domain: String) throws -> DomainState {
        try connection.domain(name: domain).state()
    }

    /// Makes `path` (and parents below the home) as directories owned by `user`.
    func mkdirs(_ path: String, owner user: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let (uid, gid) = ids(user)
        var p = path
        while p.hasPrefix(home(user) + "/") {
            chown(p, uid, gid)
            p = (p as NSString).deletingLastPathComponent
        }
    }

    /// Writes a file owned by `owner` (default: the directory's user) the way a user would.
    func write(_ path: String, _ content: String = "", owner user: String, mtime: Int? = nil) throws {
        try mkdirs((path as NSString).deletingLastPathComponent, owner: user)
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        let (uid, gid) = ids(user)
        chown(path, uid, gid)
        if let mtime {
            var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
            utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
        }
    }

    /// Writes a command file atomically (temporary dot-name, then rename), as the CLI does.
    func send(_ user: String, _ command: String, _ content: String = "", vm: String = "box") throws {
        let dir = vmDir(user, vm)
        try write("\(dir)/.\(command).tmp", content, owner: user)
        WirtClient.stampNow("\(dir)/.\(command).tmp")
        #expect(rename("\(dir)/.\(command).tmp", "\(dir)/\(command)") == 0)
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func exists(_ path: String) -> Bool {
        var s = stat()
        return lstat(path, &s) == 0
    }

    /// Waits (polling, bounded) until `predicate` holds; false at the deadline.
    func waitUntil(seconds: Double = 5, _ predicate: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if predicate() { return true }
            usleep(2000)
        }
        return predicate()
    }
}
