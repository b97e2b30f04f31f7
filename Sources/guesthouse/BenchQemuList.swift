import Foundation
import Libvirt

/// The benchmark's qemu:///system part: `count` inactive domains (no disk, no OS, domain type qemu,
/// named `ghbench-<random>-NNNN`) defined for the run and removed afterwards, even on failure;
/// libvirt's own list + XML of all domains in-process against the server's guest list over HTTP.
enum BenchQemuList {
    static let uri = "qemu:///system"

    struct Result {
        var floor: BenchCommand.Figures
        var http: BenchCommand.Figures
    }

    static func run(count: Int, seconds: Int, connections: Int, port: Int, work: URL) async throws -> Result {
        let executor = LibvirtExecutor(threads: 4)
        let conn = try Connection(uri: uri)
        let prefix = "ghbench-\(UUID().uuidString.prefix(6).lowercased())-"
        defer { removeAll(prefix: prefix, conn: conn) }
        let started = ContinuousClock.now
        for i in 0..<count {
            _ = try conn.defineDomain(xml: """
                <domain type='qemu'><name>\(prefix)\(String(format: "%04d", i))</name>
                <memory unit='MiB'>32</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>
                """)
        }
        print("qemu:///system: \(count) inactive domains defined in \(started.duration(to: .now))")
        let expected = try conn.allDomains().count
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let floor = try await BenchCommand.inProcess(seconds: seconds, concurrency: cores) {
            try await executor.run {
                let all = try conn.allDomains()
                for domain in all { _ = try? domain.xml() }  // one may go away meanwhile (others use the host)
                precondition(all.count >= expected - 50)
            }
        }
        let child = try await BenchServer.start(port: port + 1, directory: work, config: """
            [family.kvm]
            local_uri = "\(uri)"
            domain_type = "qemu"
            """)
        defer { child.stop() }
        let header = "x-simplestack-hypervisor-token: \(child.token)"
        // The first list waits for the server's view (one full read); then wrk.
        _ = try Wrk.run(url: "\(child.base)/kvm/localhost/guests", header: header, seconds: 1, connections: 2)
        let http = try Wrk.run(url: "\(child.base)/kvm/localhost/guests", header: header, seconds: seconds,
                               connections: min(connections, 16))
        return Result(floor: floor, http: http)
    }

    static func removeAll(prefix: String, conn: Connection) {
        for domain in (try? conn.allDomains()) ?? [] where domain.name.hasPrefix(prefix) {
            try? domain.undefine()
        }
    }
}
