#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import Foundation
import GuesthouseConfig
import Logging
import ServiceLifecycle

/// The wirt spool as a long-running `Service`: inotify watches on every member's spool directories
/// wake it at once; a rescan every `rescan_seconds` picks up anything missed (new members, lost
/// events). Passes run on a thread of their own (they block on the file system and libvirt), one user
/// at a time, a user with more files than a pass handles going to the back of the queue.
public final class WirtSpoolService: Service, @unchecked Sendable {
    public let spool: WirtSpool
    private let logger: Logger
    private let condition = NSCondition()
    private var queue: [String] = []
    private var pending: [String: WirtSpool.ScanMode] = [:]
    private var stopping = false
    private var started = false
    private var rescanNow = false
    private let inotify: Inotify?
    private let metrics: any MetricsFactory

    /// - Parameters:
    ///   - spool: what a pass does.
    ///   - metrics: where the queue length and each pass's latency and commands are recorded.
    public init(spool: WirtSpool, logger: Logger = Logger(label: "guesthouse.wirt"),
                metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.metrics = metrics
        self.spool = spool
        self.logger = logger
        do {
            inotify = try Inotify()
        } catch {
            logger.error("wirt: inotify unavailable, relying on rescans", metadata: ["reason": "\(error)"])
            inotify = nil
        }
        if let inotify {
            spool.watch = { dir, user, isHome in inotify.add(dir, user: user, isHome: isHome) }
        }
    }

    /// Builds the spool for `[wirt]` on `guests` (`LibvirtWirtGuests` over the server's pool).
    public convenience init(config: WirtConfig, guests: any WirtGuests, logger: Logger = Logger(label: "guesthouse.wirt"),
                            metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.init(spool: WirtSpool(config: config, guests: guests, logger: logger), logger: logger, metrics: metrics)
    }

    /// Runs until graceful shutdown (or cancellation).
    public func run() async throws {
        start()
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await gracefulShutdown()
        } onCancelOrGracefulShutdown: { [self] in
            stop()
        }
        stop()
        logger.info("wirt spool stopped")
    }

    /// Starts the worker and inotify threads (once); the first pass covers every member.
    public func start() {
        condition.lock()
        let first = !started
        started = true
        condition.unlock()
        guard first else { return }
        logger.info("wirt spool running", metadata: ["group": "\(spool.config.group)"])
        let worker = Thread { [self] in workLoop() }
        worker.name = "wirt-spool"
        worker.start()
        if inotify != nil {
            let reader = Thread { [self] in readLoop() }
            reader.name = "wirt-inotify"
            reader.start()
        }
    }

    /// Asks the threads to finish.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Queues a pass for `user` (coalesced with one already queued).
    public func markDirty(_ user: String, mode: WirtSpool.ScanMode = .full) {
        condition.lock()
        if let existing = pending[user] {
            pending[user] = max(existing, mode)
        } else {
            pending[user] = mode
            queue.append(user)
        }
        condition.signal()
        condition.unlock()
    }

    /// Queues a pass over every member at once.
    public func rescan() {
        condition.lock()
        rescanNow = true
        condition.signal()
        condition.unlock()
    }

    private func workLoop() {
        var nextRescan = Date()
        while true {
            condition.lock()
            while !stopping && queue.isEmpty && !rescanNow && Date() < nextRescan {
                _ = condition.wait(until: nextRescan)
            }
            if stopping { condition.unlock(); return }
            let due = rescanNow || Date() >= nextRescan
            rescanNow = false
            condition.unlock()
            if due {
                for user in spool.members() { markDirty(user.name, mode: .full) }
                nextRescan = Date().addingTimeInterval(spool.config.rescanSeconds)
            }
            condition.lock()
            guard !queue.isEmpty else { condition.unlock(); continue }
            let user = queue.removeFirst()
            let mode = pending.removeValue(forKey: user) ?? .full
            let waiting = queue.count
            condition.unlock()
            Gauge(label: "guesthouse_wirt_queue_users", factory: metrics).record(waiting)
            let start = DispatchTime.now().uptimeNanoseconds
            let result = spool.process(userName: user, mode: mode)
            CoreMetrics.Timer(label: "guesthouse_wirt_pass_duration_seconds", factory: metrics)
                .recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
            if result.processed > 0 || result.refused > 0 {
                CoreMetrics.Counter(label: "guesthouse_wirt_commands_total", dimensions: [("outcome", "processed")],
                                    factory: metrics).increment(by: result.processed)
                CoreMetrics.Counter(label: "guesthouse_wirt_commands_total", dimensions: [("outcome", "refused")],
                                    factory: metrics).increment(by: result.refused)
            }
            if result.more { markDirty(user, mode: .full) }
        }
    }

    private func readLoop() {
        guard let inotify else { return }
        while true {
            condition.lock()
            let done = stopping
            condition.unlock()
            if done { return }
            for (user, mode) in inotify.wait(timeoutMilliseconds: 250) {
                markDirty(user, mode: mode)
            }
        }
    }
}

/// An inotify instance mapping watch descriptors to users.
final class Inotify: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private var owners: [Int32: (user: String, isHome: Bool)] = [:]

    static let dirMask: UInt32 = UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE)
        | UInt32(IN_ATTRIB) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)

    init() throws {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw WirtRefusal("inotify_init1: \(errnoText())") }
    }

    deinit { close(fd) }

    /// Watches the directory open as `dir` (through its descriptor, so no path is followed).
    func add(_ dir: DirFD, user: String, isHome: Bool) {
        var wd = inotify_add_watch(fd, "/proc/self/fd/\(dir.fd)", Self.dirMask | UInt32(IN_ONLYDIR))
        if wd < 0 {
            wd = inotify_add_watch(fd, dir.path, Self.dirMask | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW))
        }
        guard wd >= 0 else { return }
        lock.withLock { owners[wd] = (user, isHome) }
    }

    /// Waits up to `timeoutMilliseconds` for events; returns the users to process and how.
    func wait(timeoutMilliseconds: Int32) -> [(String, WirtSpool.ScanMode)] {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMilliseconds) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        guard n > 0 else { return [] }
        var result: [String: WirtSpool.ScanMode] = [:]
        var order: [String] = []
        var offset = 0
        let header = MemoryLayout<inotify_event>.size
        while offset + header <= n {
            let (wd, mask, len) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let len = raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
                return (wd, mask, Int(len))
            }
            let nameBytes = buffer[(offset + header)..<min(n, offset + header + len)].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            offset += header + len
            if mask & UInt32(IN_IGNORED) != 0 {
                _ = lock.withLock { owners.removeValue(forKey: wd) }
                continue
            }
            guard let owner = lock.withLock({ owners[wd] }) else { continue }
            if owner.isHome && name != "wirt" { continue }
            if name.hasPrefix(".") && mask & UInt32(IN_ISDIR) == 0 { continue }
            let isDir = mask & UInt32(IN_ISDIR) != 0
            let onlyCreated = mask & UInt32(IN_CREATE) != 0 && !isDir
            let mode: WirtSpool.ScanMode = onlyCreated ? .nonRegularOnly : .full
            if let existing = result[owner.user] {
                result[owner.user] = max(existing, mode)
            } else {
                result[owner.user] = mode
                order.append(owner.user)
            }
        }
        return order.map { ($0, result[$0]!) }
    }
}
