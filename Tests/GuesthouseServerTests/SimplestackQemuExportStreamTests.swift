import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GuesthouseTestSupport
import Libvirt
import Testing

/// A stopped guest on qemu:///system whose one raw disk is 20 GiB, sparse, with `dataMiB` of
/// random data in two halves (at 0 and at 10 GiB).
private struct LargeGuest {
    let name: String
    let volume: String
    let path: String

    static func make(_ s: QemuScratch, dataMiB: Int) throws -> LargeGuest {
        let name = s.prefix + "-large"
        let volume = name + "-vda.raw"
        let path = try s.makeVolume(name: volume, bytes: 20 << 30, sparse: true)
        for offset in [0, 10 << 10] {  // MiB
            try Daemon.run("/usr/bin/dd", ["if=/dev/urandom", "of=\(path)", "bs=1M", "count=\(dataMiB / 2)",
                                           "seek=\(offset)", "conv=notrunc", "status=none"])
        }
        let conn = try Connection(uri: "qemu:///system")
        _ = try conn.defineDomain(xml: """
            <domain type='qemu'><name>\(name)</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
            <os><type arch='x86_64'>hvm</type></os><devices>
            <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(path)'/><target dev='vda' bus='virtio'/></disk>
            </devices></domain>
            """)
        return LargeGuest(name: name, volume: volume, path: path)
    }
}


/// What /proc says about processes.
private enum Processes {
    /// A process's resident set in KiB (0 once it is gone).
    static func rssKiB(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func all() -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
    }

    /// The children of `parent`.
    static func children(of parent: pid_t) -> [pid_t] {
        all().filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent
        }
    }

    /// Processes whose command line holds `text` (the download helpers of one volume).
    static func running(_ text: String) -> [pid_t] {
        all().filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
        }
    }

    /// What the descriptors of a process point at ("socket:[123]", "pipe:[45]", paths).
    static func descriptors(_ pid: pid_t) -> Set<String> {
        let dir = "/proc/\(pid)/fd"
        return Set(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + $0)
        })
    }

    /// Processes that have the file at `path` open (libvirtd while it streams a volume).
    static func holding(_ path: String) -> [pid_t] {
        all().filter { pid in
            let dir = "/proc/\(pid)/fd"
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).contains { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + fd)) == path
            }
        }
    }
}

/// Exports through the server's download helper: memory stays bounded whatever the client's pace,
/// and a client that goes away mid-export stops the libvirt stream.
@Suite(.serialized) struct SimplestackQemuExportStreamTests {
    /// `guesthouse serve` (the real executable) exports 256 MiB of data to a client reading at
    /// 24 MB/s. libvirt reads the volume far faster: were its stream buffered without bound in the
    /// server (as it was), the server would grow by most of the 256 MiB.
    @Test func aSlowReaderHoldsTheServerBackInsteadOfFillingItsMemory() async throws {
        try await QemuScratch.with(.router) { s, _ in
            let g = try LargeGuest.make(s, dataMiB: 256)
            let work = FileManager.default.temporaryDirectory.appendingPathComponent(s.prefix).path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: work) }
            try await ServedGuesthouse.with(in: work) { served in
                let server = served.pid
                let base = served.base
                // Warm: one request through the whole stack that succeeds, so the baseline holds what any
                // request needs. (A warm-up that failed, ignored before, left a cold baseline, and the
                // growth then counted the server's start-up: 55 MiB once in a loaded run, 8-16 otherwise.)
                let warmed = try await eventually(60) {
                    try CommandResult.run("curl", ["-sf", "-o", "/dev/null", "-H", "x-simplestack-hypervisor-token: \(SurfaceHarness.token)",
                                                   base + "/kvm/localhost/guests/\(g.name)"]).status == 0
                }
                try #require(warmed, "guest info answered before the export")
                let baseline = Processes.rssKiB(server)

                let curl = Process()
                curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                curl.arguments = ["-sf", "--limit-rate", "24M", "-o", work + "/export.tar", "-w", "%{size_download}",
                                  "-H", "x-simplestack-hypervisor-token: \(SurfaceHarness.token)",
                                  base + "/kvm/localhost/guests/\(g.name)/export"]
                let out = Pipe()
                curl.standardOutput = out
                try curl.run()
                var serverPeak = baseline
                var helperPeak = 0
                var sawHelper = false
                while curl.isRunning {
                    serverPeak = max(serverPeak, Processes.rssKiB(server))
                    for child in Processes.children(of: server) {
                        sawHelper = true
                        helperPeak = max(helperPeak, Processes.rssKiB(child))
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let size = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                #expect(curl.terminationStatus == 0)
                #expect(Int(size) ?? 0 > 256 << 20, "the archive holds the data: \(size) bytes")
                let listing = try Daemon.run("/usr/bin/tar", ["-tvf", work + "/export.tar"])
                #expect(listing.contains(" 21474836480 ") && listing.contains("disks/vda.raw"), "\(listing)")
                #expect(sawHelper, "the export ran in a download helper")
                let growth = (serverPeak - baseline) >> 10
                print("server RSS: \(baseline >> 10) MiB before, \(serverPeak >> 10) MiB peak; helper peak \(helperPeak >> 10) MiB")
                #expect(growth < 48, "the server grew by \(growth) MiB while a slow client read 256 MiB")
                #expect(helperPeak >> 10 < 64, "the helper holds \(helperPeak >> 10) MiB")
            }
        }
    }

    /// A client that reads part of an export and hangs up: the helper is gone, libvirtd holds the
    /// volume no more (its stream was aborted), the guest can be deleted at once, and the server answers.
    @Test func aClientThatDropsMidExportAbortsTheStream() async throws {
        try await QemuScratch.with(.live) { s, c in
            let g = try LargeGuest.make(s, dataMiB: 128)
            let port = try #require(c.client.port)
            let client = try RawHTTPClient(port: port)
            let request = "GET /kvm/localhost/guests/\(g.name)/export HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "x-simplestack-hypervisor-token: \(SurfaceHarness.token)\r\n\r\n"
            let sent = client.send(Array(request.utf8))
            #expect(sent == request.utf8.count)
            // Read 8 MiB of the archive (of 128 MiB), then hang up. The blocking reads run off the
            // cooperative pool, which the server in this process needs to send them.
            let (head, received) = try await offPool { () -> ([UInt8], Int) in
                var received = 0
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                var head = [UInt8]()
                while received < 8 << 20 {
                    let n = client.receive(into: &buffer)
                    guard n > 0 else { break }
                    if head.count < 64 { head += buffer.prefix(min(n, 64)) }
                    received += n
                }
                return (head, received)
            }
            #expect(String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            #expect(received >= 8 << 20, "the export stopped after \(received) bytes")
            let helpers = Processes.running(g.volume)
            #expect(!helpers.isEmpty, "the export runs in a download helper")
            // The helper got none of the server's sockets (client connections, libvirt's).
            let shared = helpers.flatMap { Processes.descriptors($0).intersection(Processes.descriptors(getpid())) }
            #expect(!shared.contains { $0.hasPrefix("socket:") }, "\(shared)")
            #expect(!Processes.holding(g.path).isEmpty, "libvirt reads the volume while the export runs")
            client.close()

            let helperGone = try await eventually { Processes.running(g.volume).isEmpty }
            #expect(helperGone, "download helpers left: \(Processes.running(g.volume))")
            let released = try await eventually { Processes.holding(g.path).isEmpty }
            #expect(released, "processes still reading the volume: \(Processes.holding(g.path))")
            #expect(try await c.delete("/kvm/localhost/guests/\(g.name)").status == 204)
            #expect(try s.volumes().isEmpty)
            #expect(try await c.get("/kvm/localhost/guests/\(g.name)").status == 404)
            #expect(try await c.get("/kvm/localhost/guests").status == 200)
        }
    }
}
