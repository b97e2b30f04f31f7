import Foundation
import GuesthouseCore
import Testing

@Suite struct VmangoModelTests {
    @Test(arguments: [
        ("Centos-7_amd64_qcow2.img", "Centos-7", "x86_64", MachineImage.Format.qcow2),
        ("Ubuntu-16.04_i386_raw.img", "Ubuntu-16.04", "i686", .raw),
        ("Tiny-1_amd64_raw.img", "Tiny-1", "x86_64", .raw),
    ])
    func imageNamesParse(_ name: String, _ os: String, _ arch: String, _ format: MachineImage.Format) throws {
        let parsed = try MachineImage.Name(parsing: name)
        #expect(parsed.os == os)
        #expect(parsed.arch == arch)
        #expect(parsed.format == format)
    }

    @Test(arguments: ["Centos-7_amd64_qcow2.iso", "Centos_amd64_qcow2.img", "Centos-7_sparc_qcow2.img",
                      "Centos-7_amd64_vmdk.img", "Centos-7_amd64.img", "-7_amd64_raw.img", "a_b_c_d.img"])
    func badImageNamesAreRefused(_ name: String) {
        #expect(throws: GuesthouseError.self) { try MachineImage.Name(parsing: name) }
    }

    static let network = """
        <network><name>n</name><ip address='10.0.0.1' netmask='255.255.255.0'>
          <dhcp><range start='10.0.0.10' end='10.0.0.12'/>
            <host mac='52:54:00:00:00:01' name='a' ip='10.0.0.10'/></dhcp></ip></network>
        """

    @Test func theLowestFreeAddressIsChosen() throws {
        let plan = try DHCPPlan(networkXML: Self.network, network: "n")
        #expect(plan.gateway == "10.0.0.1")
        #expect(plan.prefix == 24)
        #expect(plan.freeAddress() == "10.0.0.11")
        #expect(plan.freeAddress(excluding: ["10.0.0.11"]) == "10.0.0.12")
        #expect(plan.freeAddress(excluding: ["10.0.0.11", "10.0.0.12"]) == nil)
        #expect(plan.host(mac: "52:54:00:00:00:01")?.ip == "10.0.0.10")
    }

    @Test func aNetworkWithoutDHCPIsNamed() {
        #expect(throws: GuesthouseError.invalid("network \"n\" has no IPv4 DHCP range to give machines addresses from")) {
            try DHCPPlan(networkXML: "<network><name>n</name><ip address='10.0.0.1' prefix='24'/></network>", network: "n")
        }
    }

    @Test func hostEntriesAreEscaped() {
        let host = DHCPPlan.Host(mac: "52:54:00:00:00:01", name: "x'/><evil", ip: "10.0.0.2")
        #expect(host.xml == "<host mac='52:54:00:00:00:01' name='x&apos;/&gt;&lt;evil' ip='10.0.0.2'/>")
    }

    @Test func metadataRoundTripsThroughXML() throws {
        let metadata = VmangoMetadata(imageID: "Debian-12_amd64_qcow2.img", os: "Debian-12", creator: "admin",
                                      plan: "small", sshKeys: [MachineSSHKey(name: "k<1>", publicKey: "ssh-ed25519 AAAA a&b")],
                                      userdata: "#cloud-config\nruncmd: [\"echo <hi>\"]")
        let read = VmangoMetadata(element: try XMLTree.parse(metadata.xml))
        #expect(read == metadata)
    }
}
