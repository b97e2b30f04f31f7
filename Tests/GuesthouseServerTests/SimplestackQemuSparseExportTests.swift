import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GuesthouseCore
import Libvirt
import GuesthouseTestSupport
import Testing

/// A stopped guest on qemu:///system with a 20 GiB sparse raw disk (random data at a few offsets,
/// one past 8 GiB) and a 1 GiB qcow2 disk, in the scratch pool.
private struct SparseGuest {
    let name: String
    let raw: String
    let qcow2: String
    static let rawSize: UInt64 = 20 << 30
    static let writes: [(offset: UInt64, bytes: Int)] = [(0, 1 << 20), (3 << 30 + 12345, 1 << 20), (9 << 30, 2 << 20),
                                                          (rawSize - (1 << 20), 1 << 20)]

    static func make(_ s: QemuScratch) throws -> SparseGuest {
        let name = s.prefix + "-sparse"
        let raw = try s.makeVolume(name: name + "-vda.raw", bytes: rawSize, sparse: true)
        let qcow2 = try s.makeVolume(name: name + "-vdb.qcow2", bytes: 1 << 30, format: "qcow2")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: raw))
        var generator = SystemRandomNumberGenerator()
        for (offset, count) in writes {
            let words = (0..<(count / 8)).map { _ in generator.next() as UInt64 }
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: words.withUnsafeBytes { Data($0) })
        }
        try handle.close()
        try SimplestackQemuSurfaceTests.run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xab 0 256k", qcow2])
        try SimplestackQemuSurfaceTests.run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xcd 512M 64k", qcow2])
        let conn = try Connection(uri: "qemu:///system")
        _ = try conn.defineDomain(xml: """
            <domain type='qemu'><name>\(name)</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
            <os><type arch='x86_64'>hvm</type></os><devices>
            <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(raw)'/><target dev='vda' bus='virtio'/></disk>
            <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='\(qcow2)'/><target dev='vdb' bus='virtio'/></disk>
            </devices></domain>
            """)
        return SparseGuest(name: name, raw: raw, qcow2: qcow2)
    }
}

/// Runs a tool (throws, failing the test, when it fails); its output.
@discardableResult
private func tool(_ path: String, _ arguments: [String], in dir: String? = nil) throws -> String {
    try Daemon.run(path, arguments, in: dir)
}


@Suite(.serialized) struct SimplestackQemuSparseExportTests {
    @Test func aTwentyGiBSparseGuestRoundTripsThroughGnuTarAndBsdtarWithItsHoles() async throws {
        try await QemuScratch.with(.live) { s, c in
            let g = try SparseGuest.make(s)
            let digests = [try SparseDigest.of(g.raw), try SparseDigest.of(g.qcow2)]
            let export = try await c.get("/kvm/localhost/guests/\(g.name)/export")
            #expect(export.status == 200)
            #expect(export.headers[.contentLength] == String(export.body.count))
            #expect(export.body.count < 16 << 20, "the archive follows the allocated data, not the disk size")
            let work = FileManager.default.temporaryDirectory.appendingPathComponent(s.prefix).path
            try FileManager.default.createDirectory(atPath: work + "/x", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: work) }
            let archive = work + "/export.tar"
            try export.body.write(to: URL(fileURLWithPath: archive))

            // Both archivers list the true sizes; GNU tar extracts the same bytes, sparse.
            let gnuList = try tool("/usr/bin/tar", ["-tvf", archive])
            let bsdList = try tool("/usr/bin/bsdtar", ["-tvf", archive])
            for list in [gnuList, bsdList] {
                let line = list.split(separator: "\n").first { $0.hasSuffix("disks/vda.raw") } ?? ""
                #expect(line.contains(" \(SparseGuest.rawSize) "), "\(list)")
                #expect(list.contains("guesthouse.json") && list.contains("domain.xml") && list.contains("disks/vdb.qcow2"))
            }
            try tool("/usr/bin/tar", ["-xf", archive, "-C", work + "/x"])
            #expect(try SparseDigest.of(work + "/x/disks/vda.raw") == digests[0])
            #expect(try SparseDigest.of(work + "/x/disks/vdb.qcow2") == digests[1])
            #expect(try SparseDigest.allocatedKiB(work + "/x/disks/vda.raw") < 64 << 10, "GNU tar filled the holes")
            let extractedSize = try FileManager.default.attributesOfItem(atPath: work + "/x/disks/vda.raw")[.size] as? UInt64
            #expect(extractedSize == SparseGuest.rawSize)

            #expect(try await c.delete("/kvm/localhost/guests/\(g.name)").status == 204)
            #expect(try s.volumes().isEmpty)

            // Truncated anywhere: 400, nothing left.
            for cut in [100, 1536, export.body.count / 3, export.body.count / 2, export.body.count - 1100, export.body.count - 10] {
                let res = try await c.send(.post, "/kvm/localhost/storages/\(s.pool)/guests", bytes: export.body.prefix(cut))
                #expect(res.status == 400, "cut at \(cut): \(res.text)")
                #expect(try s.volumes().isEmpty, "cut at \(cut)")
                #expect(try await c.get("/kvm/localhost/guests/\(g.name)").status == 404)
            }

            // Our archive, GNU tar's pax repack, a gzipped GNU-format repack, bsdtar's repack.
            try tool("/usr/bin/tar", ["--format=pax", "--sparse", "-cf", work + "/pax.tar", "guesthouse.json", "domain.xml", "disks"], in: work + "/x")
            try tool("/usr/bin/tar", ["--format=gnu", "--sparse", "-czf", work + "/gnu.tar.gz", "guesthouse.json", "domain.xml", "disks"], in: work + "/x")
            try tool("/usr/bin/bsdtar", ["--format=pax", "-cf", work + "/bsd.tar", "guesthouse.json", "domain.xml", "disks"], in: work + "/x")
            for file in [archive, work + "/pax.tar", work + "/gnu.tar.gz", work + "/bsd.tar"] {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                let imported = try await c.send(.post, "/kvm/localhost/storages/\(s.pool)/guests", bytes: bytes)
                #expect(imported.status == 201, "\(file): \(imported.text)")
                let dir = "/var/lib/guesthouse-tests/\(s.pool)/"
                #expect(try s.volumes() == [g.name + "-disk0.raw", g.name + "-disk1.qcow2"], "\(file)")
                #expect(try SparseDigest.of(dir + g.name + "-disk0.raw") == digests[0], "\(file)")
                #expect(try SparseDigest.of(dir + g.name + "-disk1.qcow2") == digests[1], "\(file)")
                #expect(try SparseDigest.allocatedKiB(dir + g.name + "-disk0.raw") < 64 << 10, "\(file): the holes were filled")
                #expect(try await c.get("/kvm/localhost/guests/\(g.name)/disks").array.count == 2)
                #expect(try await c.delete("/kvm/localhost/guests/\(g.name)").status == 204)
                #expect(try s.volumes().isEmpty)
            }
        }
    }

    @Test func aPoolTooSmallIsAConflictThatWritesNothing() async throws {
        try await QemuScratch.with(.live) { s, c in
            let g = try SparseGuest.make(s)
            let export = try await c.get("/kvm/localhost/guests/\(g.name)/export")
            #expect(export.status == 200)
            // A dir pool on a 2 MiB tmpfs the test mounts: the disks' 5 MiB of data cannot fit.
            let small = s.prefix + "-small"
            let path = "/var/lib/guesthouse-tests/" + small
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try tool("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", path])
            let conn = try Connection(uri: "qemu:///system")
            defer {
                try? conn.storagePool(name: small).destroyAndUndefine()
                _ = try? tool("/usr/bin/umount", [path])
                try? FileManager.default.removeItem(atPath: path)
            }
            _ = try conn.defineStoragePool(xml: "<pool type='dir'><name>\(small)</name><target><path>\(path)</path></target></pool>", build: false)
            try #require(try await c.get("/kvm/localhost/storages/\(small)").status == 200)
            #expect(try await c.delete("/kvm/localhost/guests/\(g.name)").status == 204)

            let res = try await c.send(.post, "/kvm/localhost/storages/\(small)/guests", bytes: export.body)
            #expect(res.status == 409)
            #expect(res.errorClass == "OperationNotAllowed")
            let message = res.object["message"] as? String ?? ""
            #expect(message.contains("'\(small)'") && message.contains("bytes free") && message.contains("need"), "\(message)")
            let pool = try conn.storagePool(name: small)
            try pool.refresh()
            #expect(try pool.volumes().isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: path).isEmpty)
            #expect(try await c.get("/kvm/localhost/guests/\(g.name)").status == 404)
        }
    }

    @Test func aClientThatDropsTheConnectionMidImportLeavesNothing() async throws {
        try await QemuScratch.with(.live) { s, c in
            let g = try SparseGuest.make(s)
            let export = try await c.get("/kvm/localhost/guests/\(g.name)/export")
            #expect(export.status == 200)
            #expect(try await c.delete("/kvm/localhost/guests/\(g.name)").status == 204)
            let port = try #require(c.client.port)
            // A client that announces the whole archive, sends half of it and, once the import has
            // made its volumes, closes the connection.
            let client = try RawHTTPClient(port: port)
            let head = "POST /kvm/localhost/storages/\(s.pool)/guests HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "x-simplestack-hypervisor-token: \(SurfaceHarness.token)\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Length: \(export.body.count)\r\n\r\n"
            let half = Array(head.utf8) + Array(export.body.prefix(export.body.count / 2))
            let sent = try await offPool { client.send(half) }  // blocks until this process's server reads it
            #expect(sent == half.count)
            let started = try await eventually { !(try s.volumes().isEmpty) }
            #expect(started, "the import never made its volumes")
            client.close()
            let cleaned = try await eventually { try s.volumes().isEmpty }
            #expect(cleaned, "volumes left: \((try? s.volumes()) ?? [])")
            #expect(try await c.get("/kvm/localhost/guests/\(g.name)").status == 404)
        }
    }
}
