import Foundation
import GuesthouseCore
import Testing

private func golden(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Golden/\(name)", withExtension: nil))
    return try String(contentsOf: url, encoding: .utf8)
}

@Suite struct DomainXMLTests {
    @Test func parsesAQemuDomainDefinition() throws {
        let d = try DomainDefinition(xml: golden("qemu-domain.xml"))
        #expect(d.type == "kvm")
        #expect(d.name == "web-01")
        #expect(d.uuid == "0d5ba2c6-6a0e-4f6b-9bd4-8e4c6c4f6a01")
        #expect(d.memoryKiB == 1_048_576)
        #expect(d.vcpus == 2)
        #expect(d.osType == "hvm")
        #expect(d.arch == "x86_64")
        #expect(d.disks.count == 3)
        #expect(d.disks[0] == DomainDisk(source: "/var/lib/libvirt/images/web-01.qcow2", target: "vda", bus: "virtio", format: "qcow2",
                                        driver: "qemu"))
        #expect(d.disks[1].pool == "data" && d.disks[1].volume == "web-01-data.img" && d.disks[1].source == "data/web-01-data.img")
        #expect(d.disks[2].device == "cdrom" && d.disks[2].source == nil)
        let nic = try #require(d.interfaces.first)
        #expect(nic.mac == "52:54:00:ab:cd:ef")
        #expect(nic.network == "default")
        #expect(nic.linkUp == false)
        #expect(nic.inboundAverageKiB == 1000 && nic.outboundAverageKiB == 500)
        #expect(d.vncPort == 5901)
        #expect(d.isParavirtualized)
        let tags = try #require(d.metadata["http://guesthouse.dev/schema/1"])
        #expect(tags.child("gh:tags")?.children.map(\.trimmedText) == ["prod"])
    }

    @Test func rendersANewDomainExactlyAsTheGoldenFile() throws {
        let domain = NewDomain(
            type: "qemu", name: "box-1", uuid: "0d5ba2c6-6a0e-4f6b-9bd4-8e4c6c4f6a02", memoryMiB: 512, cpus: 2,
            os: .hvm(arch: "x86_64"),
            disks: [.init(pool: "default", volume: "box-1-disk0.qcow2", target: "vda")],
            interfaces: [.init(network: "guesthouse", mac: "52:54:00:00:00:01")],
            metadata: ["<gh:guest xmlns:gh=\"http://guesthouse.dev/schema/1\"/>"])
        #expect(domain.renderXML() == (try golden("new-domain.xml")))
    }

    @Test func renderedXMLReadsBackWhatWasRendered() throws {
        let domain = NewDomain(type: "test", name: "a<b>&'\"c", memoryMiB: 256, cpus: 1, os: .hvm(arch: "x86_64"),
                               interfaces: [.init(network: "net'><evil/>", mac: "52:54:00:00:00:02")])
        let parsed = try DomainDefinition(xml: domain.renderXML())
        #expect(parsed.name == "a<b>&'\"c")
        #expect(parsed.memoryKiB == 256 * 1024)
        #expect(parsed.interfaces.first?.network == "net'><evil/>")
        #expect(!domain.renderXML().contains("<evil/>"))
    }

    @Test func escapingCoversEveryMarkupCharacterAndDropsControlCharacters() {
        #expect(xmlEscape("<a href=\"x\">'&'</a>\u{1}") == "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;")
    }

    @Test func malformedXMLIsAnInvalidArgument() {
        #expect(throws: GuesthouseError.self) { try DomainDefinition(xml: "<domain><name>x</domain>") }
        #expect(throws: GuesthouseError.self) { try DomainDefinition(xml: "<network/>") }
    }

    @Test(arguments: ["web-1", "a", "Box_2.old", String(repeating: "x", count: 64)])
    func acceptsGoodNames(_ name: String) throws {
        try Validation.name(name)
    }

    @Test(arguments: ["", ".hidden", "-x", "a/b", "..", "a b", "x\u{0}", "é", String(repeating: "x", count: 65)])
    func refusesBadNames(_ name: String) {
        #expect(throws: GuesthouseError.self) { try Validation.name(name) }
    }
}
