import Foundation
import HummingbirdTesting
import Libvirt

/// A scratch storage pool on qemu:///system under /var/lib/guesthouse-tests; every guest a test
/// names with `prefix` and every volume of the pool are removed afterwards, even on failure.
struct QemuScratch: Sendable {
    let prefix: String
    var pool: String { prefix }

    static func with(_ setup: TestingSetup = .router,
                     _ body: @escaping @Sendable (QemuScratch, SurfaceClient) async throws -> Void) async throws {
        let scratch = QemuScratch(prefix: "ghtest-" + UUID().uuidString.prefix(8).lowercased())
        let conn = try Connection(uri: "qemu:///system")
        let xml = "<pool type='dir'><name>\(scratch.pool)</name><target><path>/var/lib/guesthouse-tests/\(scratch.pool)</path></target></pool>"
        _ = try conn.defineStoragePool(xml: xml, build: true)
        do {
            try await SurfaceHarness.withQemu(setup) { client in try await body(scratch, client) }
        } catch {
            scratch.cleanUp(conn)
            throw error
        }
        scratch.cleanUp(conn)
    }

    /// Makes a volume (a raw "ISO" by default) in the scratch pool; `sparse` leaves it unallocated.
    @discardableResult
    func makeVolume(name: String, bytes: UInt64, format: String = "raw", sparse: Bool = false) throws -> String {
        let conn = try Connection(uri: "qemu:///system")
        let allocation = sparse ? "<allocation>0</allocation>" : ""
        return try conn.storagePool(name: pool).createVolume(xml: """
            <volume><name>\(name)</name><capacity unit='bytes'>\(bytes)</capacity>\(allocation)<target><format type='\(format)'/></target></volume>
            """).path()
    }

    /// The names of the scratch pool's volumes.
    func volumes() throws -> [String] {
        let conn = try Connection(uri: "qemu:///system")
        let p = try conn.storagePool(name: pool)
        try? p.refresh()  // refused while an upload runs in the pool; libvirt knows its own volumes anyway
        return try p.volumes().map(\.name).sorted()
    }

    func cleanUp(_ conn: Connection) {
        for domain in (try? conn.allDomains()) ?? [] where domain.name.hasPrefix(prefix) {
            if (try? domain.isActive()) == true { try? domain.destroy() }
            try? domain.undefine()
        }
        if let p = try? conn.storagePool(name: pool) {
            for volume in (try? p.volumes()) ?? [] { try? volume.delete() }
            try? p.destroyAndUndefine()
        }
        try? FileManager.default.removeItem(atPath: "/var/lib/guesthouse-tests/\(pool)")
    }
}
