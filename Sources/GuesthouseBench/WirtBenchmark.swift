#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
import GuesthouseSpool
import Logging

/// The wirt latency figure: command file written (renamed into place) -> acted on (its log line
/// written), over `count` commands alternating `start` and `destroy` on a test-driver guest.
/// Needs root (it creates a scratch user and group, removed afterwards).
public enum WirtBenchmark {
    /// Returns the 50th and 99th percentile latencies in milliseconds.
    public static func run(count: Int = 200) async throws -> (p50: Double, p99: Double) {
        let samples = try measure(count: count)
        return (percentile(samples, 0.50), percentile(samples, 0.99))
    }

    /// The latencies in milliseconds, in the order measured.
    public static func measure(count: Int) throws -> [Double] {
        let scratch = try WirtScratch(prefix: "wb")
        defer { scratch.remove() }
        let user = try scratch.addUser()
        let uri = try scratch.writeNode(domains: [(name: "\(user)-box", running: false)])
        let pool = ConnectionPool.standalone()
        var config = WirtConfig()
        config.group = scratch.group
        var logger = Logger(label: "guesthouse.wirt.bench")
        logger.logLevel = .error
        let service = WirtSpoolService(spool: WirtSpool(config: config, guests: LibvirtWirtGuests(pool: pool, executor: pool.executor, uri: uri), logger: logger),
                                       logger: logger)
        service.start()
        defer { service.stop() }
        guard let pw = getpwnam(user) else { throw WirtRefusal("no user \(user)") }
        let uid = pw.pointee.pw_uid, gid = pw.pointee.pw_gid
        let client = WirtClient(home: scratch.home(user))
        // Wait for the first pass to build the tree.
        let ready = Date().addingTimeInterval(10)
        while client.status(vm: "box") == nil {
            guard Date() < ready else { throw WirtRefusal("the spool did not start") }
            usleep(1000)
        }
        let dir = "\(scratch.home(user))/wirt/service/vm/box"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chown(dir, uid, gid)
        let log = "\(scratch.home(user))/wirt/logs/vm/box.log"
        var samples: [Double] = []
        for i in 0..<count {
            let command = i % 2 == 0 ? "start" : "destroy"
            let before = WirtClient.size(log)
            let tmp = "\(dir)/.\(command).tmp"
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw WirtRefusal("cannot write \(tmp)") }
            fchown(fd, uid, gid)
            close(fd)
            let t0 = DispatchTime.now().uptimeNanoseconds
            guard rename(tmp, "\(dir)/\(command)") == 0 else { throw WirtRefusal("rename failed") }
            let deadline = t0 + 10_000_000_000
            while WirtClient.size(log) == before {
                guard DispatchTime.now().uptimeNanoseconds < deadline else { throw WirtRefusal("command \(i) not acted on within 10 s") }
                usleep(100)
            }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1_000_000)
        }
        return samples
    }

    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
        return sorted[max(0, index)]
    }
}
