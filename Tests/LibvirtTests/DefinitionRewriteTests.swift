import Foundation
import GuesthouseCore
@testable import GuesthouseLibvirt
import GuesthouseTestSupport
import Libvirt
import Testing

/// Rewrites of a whole definition (where libvirt has no atomic call: here the test driver, which
/// has no device attach) keep everything the change does not touch, byte for byte as libvirt
/// writes it: a hand-written description with odd whitespace, foreign metadata with odd attribute
/// order and mixed text.
@Suite struct DefinitionRewriteTests {
    static let description = "\n  Hand-written,   odd\n\tspacing &amp; a tab  "
    static let node = """
    <node>
      <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
        <name>kept</name>
        <uuid>12121212-3434-4545-8686-797979797979</uuid>
        <description>\(description)</description>
        <metadata>
          <x:note xmlns:x="urn:example:x" zeta="1" alpha="2" mid="3">  keep <x:b c="3" a="4"/> tail </x:note>
        </metadata>
        <memory unit='MiB'>256</memory>
        <vcpu>1</vcpu>
        <os><type arch='x86_64'>hvm</type></os>
        <devices>
          <disk type='file' device='disk'>
            <source file='/pool/kept-disk0.qcow2'/>
            <target dev='vda' bus='virtio'/>
          </disk>
          <interface type='network'>
            <mac address='52:54:00:aa:bb:02'/>
            <source network='isolated'/>
            <model type='virtio'/>
          </interface>
        </devices>
        <test:runstate>5</test:runstate>
      </domain>
      <network>
        <name>isolated</name>
        <uuid>abababab-2222-3333-4444-555555555555</uuid>
        <bridge name='ghtest1'/>
      </network>
      <pool type='dir'>
        <name>pool</name>
        <uuid>cdcdcdcd-2222-3333-4444-555555555555</uuid>
        <target><path>/pool</path></target>
        <volume type='file'>
          <name>kept-disk0.qcow2</name>
          <capacity unit='GiB'>1</capacity>
          <target><path>/pool/kept-disk0.qcow2</path><format type='qcow2'/></target>
        </volume>
      </pool>
    </node>
    """

    /// A hypervisor over a fresh test-driver node, and the pooled connection it uses (the test
    /// driver's state is per connection: reads must go through the same one).
    static func hypervisor(node: String = node) async throws -> (LibvirtHypervisor, Connection, URL) {
        Libvirt.initialize()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gh-rewrite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("node.xml")
        try node.write(to: file, atomically: true, encoding: .utf8)
        let uri = "test://" + file.path
        let pool = ConnectionPool.standalone()
        let hv = LibvirtHypervisor(pool: pool, executor: pool.executor, uri: uri, family: "test", domainType: "test",
                                   hostName: "localhost")
        return (hv, try await pool.connection(uri: uri), dir)
    }

    /// The lines of `after` that are not in `before` and those of `before` not in `after`.
    static func lineDiff(_ before: String, _ after: String) -> (added: [String], removed: [String]) {
        var remaining = before.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var added: [String] = []
        for line in after.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let index = remaining.firstIndex(of: line) { remaining.remove(at: index) } else { added.append(line) }
        }
        return (added, remaining)
    }

    @Test func aDiskAddedByRewriteIsTheOnlyDifference() async throws {
        let (hv, conn, dir) = try await Self.hypervisor()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try conn.domain(name: "kept").xml(inactive: true)
        // What libvirt keeps of the hand-written parts, as it writes them.
        #expect(before.contains("<description>\(Self.description)</description>"))
        #expect(before.contains(#"zeta="1" alpha="2" mid="3">  keep <x:b c="3" a="4"/> tail </x:note>"#))

        let disk = try await hv.createDisk(guestID: "kept", DiskSpec(sizeGiB: 1, pool: "pool"))
        #expect(disk.id == "vdb")
        let after = try conn.domain(name: "kept").xml(inactive: true)
        let (added, removed) = Self.lineDiff(before, after)
        #expect(removed.isEmpty, "lines lost by the rewrite: \(removed)")
        let trimmed = added.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(trimmed.first == "<disk type='file' device='disk'>")
        #expect(trimmed.contains("<source file='/pool/kept-disk1.qcow2'/>"))
        #expect(trimmed.contains("<target dev='vdb' bus='virtio'/>"))
        #expect(trimmed.last == "</disk>")
        #expect(trimmed.allSatisfy { ["<disk", "</disk>", "<source", "<target", "<driver", "<address"].contains(where: $0.hasPrefix) },
                "unexpected lines: \(trimmed)")
    }

    @Test func paravirtualizingRewritesDevicesAndNothingElse() async throws {
        let (hv, conn, dir) = try await Self.hypervisor()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try conn.domain(name: "kept").xml(inactive: true)
        _ = try await hv.updateGuest(id: "kept", GuestUpdate(paravirtualized: false))
        let after = try conn.domain(name: "kept").xml(inactive: true)
        let (added, removed) = Self.lineDiff(before, after)
        let gone = removed.map { $0.trimmingCharacters(in: .whitespaces) }
        let new = added.map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(gone.contains("<target dev='vda' bus='virtio'/>") && gone.contains("<model type='virtio'/>"))
        #expect(new.contains("<target dev='sda' bus='sata'/>") && new.contains("<model type='e1000'/>"))
        // Only the buses, models and the addresses they invalidate changed.
        #expect((gone + new).allSatisfy { ["<target", "<model", "<address", "<controller", "</controller>"].contains(where: $0.hasPrefix) },
                "unexpected changes: \(gone) -> \(new)")
        #expect(after.contains("<description>\(Self.description)</description>"))
    }

    @Test func aTagAndARewriteAtOnceBothSurvive() async throws {
        let (hv, conn, dir) = try await Self.hypervisor()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A tag (one per-key metadata call) landing while a rewrite computes its change makes
        // the rewrite start over from the new definition: both survive, in either order.
        async let tag = hv.addTag(guestID: "kept", "between")
        async let disk = hv.createDisk(guestID: "kept", DiskSpec(sizeGiB: 1, pool: "pool"))
        _ = try await (tag, disk)
        let xml = try conn.domain(name: "kept").xml(inactive: true)
        #expect(xml.contains("<target dev='vdb' bus='virtio'/>"))
        #expect(try await hv.tags(guestID: "kept") == ["between"], "\(xml)")
    }
}

/// The cross-replica guard of a rewrite: a definition that changes between the read a change is
/// computed from and the define makes the rewrite start over; one that keeps changing is a 409.
@Suite struct RewriteGuardTests {
    /// Another "replica" changing the domain (here: a metadata element, through libvirt directly).
    static func changeBehindTheRewrite(_ domain: Domain, _ n: Int) throws {
        try domain.setMetadata("<n>\(n)</n>", key: "other", namespace: "urn:example:other/\(n)")
    }

    @Test func aChangeInTheWindowIsKeptAndTheRewriteRedone() async throws {
        let (_, conn, dir) = try await DefinitionRewriteTests.hypervisor()
        defer { try? FileManager.default.removeItem(at: dir) }
        let domain = try conn.domain(name: "kept")
        nonisolated(unsafe) var calls = 0
        try LibvirtHypervisor.redefine(LibvirtLocks(), conn, domain) { tree in
            calls += 1
            if calls == 1 { try Self.changeBehindTheRewrite(domain, 1) }
            return tree.replacingChild("description", with: XMLTree(name: "description", text: "changed"))
        }
        #expect(calls == 2)
        let xml = try conn.domain(name: "kept").xml(inactive: true)
        #expect(xml.contains("<description>changed</description>"))
        #expect(xml.contains("urn:example:other/1"), "the change made in the window is lost")
    }

    @Test func aDefinitionThatKeepsChangingIsAConflict() async throws {
        let (_, conn, dir) = try await DefinitionRewriteTests.hypervisor()
        defer { try? FileManager.default.removeItem(at: dir) }
        let domain = try conn.domain(name: "kept")
        nonisolated(unsafe) var calls = 0
        #expect(throws: GuesthouseError.conflict(
            "the definition of guest 'kept' kept changing while it was being rewritten; try again")) {
            try LibvirtHypervisor.redefine(LibvirtLocks(), conn, domain) { tree in
                calls += 1
                try Self.changeBehindTheRewrite(domain, calls)
                return tree.replacingChild("description", with: XMLTree(name: "description", text: "changed"))
            }
        }
        #expect(calls == LibvirtHypervisor.rewriteAttempts)
        #expect(!(try conn.domain(name: "kept").xml(inactive: true)).contains("<description>changed</description>"))
    }
}
