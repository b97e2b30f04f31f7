import Foundation
import GuesthouseCore

/// The demo that `guesthouse serve` runs without a configuration: libvirt's in-process test driver
/// loaded from a node file with a few guests, an isolated network and an image pool whose volumes
/// are named like vmango images. The named guests carry vmango metadata (image, OS, plan, creator,
/// an SSH key) and a static DHCP address, so the demo's machine list has every column filled.
public enum EmbeddedDefault {
    /// One named demo guest.
    public struct DemoGuest: Sendable {
        public var name: String
        public var memoryMiB: Int
        public var cpus: Int
        public var running: Bool
        /// Its static DHCP address (outside the network's range, which new machines draw from).
        public var address: String
        public var metadata: VmangoMetadata
    }

    /// The demo's SSH key (a placeholder: nothing can log in with it).
    public static let demoKey = MachineSSHKey(
        name: "demo", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyOnly demo@guesthouse")

    /// The named guests every demo node has.
    public static let demoGuests: [DemoGuest] = [
        DemoGuest(name: "web-1", memoryMiB: 1024, cpus: 2, running: true, address: "192.168.150.10",
                  metadata: VmangoMetadata(imageID: "Debian-12_amd64_qcow2.img", os: "Debian-12", creator: "admin",
                                           plan: "medium", sshKeys: [demoKey])),
        DemoGuest(name: "db-1", memoryMiB: 2048, cpus: 2, running: true, address: "192.168.150.11",
                  metadata: VmangoMetadata(imageID: "Ubuntu-24.04_amd64_qcow2.img", os: "Ubuntu-24.04", creator: "admin",
                                           plan: "medium", sshKeys: [demoKey])),
        DemoGuest(name: "build-box", memoryMiB: 512, cpus: 1, running: false, address: "192.168.150.12",
                  metadata: VmangoMetadata(imageID: "Centos-7_amd64_raw.img", os: "Centos-7", creator: "ci",
                                           plan: "small", sshKeys: [demoKey])),
    ]

    /// A test-driver node document with the named demo guests and `extraGuests` more (bare ones).
    public static func nodeXML(extraGuests: Int = 0) -> String {
        var parts = ["<node>"]
        for (index, guest) in demoGuests.enumerated() {
            parts.append(domain(name: guest.name, index: index, memoryMiB: guest.memoryMiB, cpus: guest.cpus,
                                running: guest.running, metadata: guest.metadata))
        }
        for i in 0..<extraGuests {
            parts.append(domain(name: String(format: "guest-%04d", i), index: 1000 + i, memoryMiB: 256, cpus: 1,
                                running: i % 2 == 0))
        }
        let hosts = demoGuests.enumerated().map { index, guest in
            "<host mac='\(mac(index))' name='\(xmlEscape(guest.name))' ip='\(guest.address)'/>"
        }.joined()
        parts.append("""
          <network>
            <name>guesthouse</name>
            <uuid>8d0c7c4a-3f3e-4f3b-9b1a-2a2f8e0c0001</uuid>
            <bridge name='ghbr0'/>
            <ip address='192.168.150.1' netmask='255.255.255.0'>
              <dhcp><range start='192.168.150.100' end='192.168.150.200'/>\(hosts)</dhcp>
            </ip>
          </network>
          <pool type='dir'>
            <name>default</name>
            <uuid>8d0c7c4a-3f3e-4f3b-9b1a-2a2f8e0c0002</uuid>
            <capacity unit='GiB'>500</capacity>
            <allocation unit='GiB'>30</allocation>
            <available unit='GiB'>470</available>
            <target><path>/var/lib/guesthouse/default</path></target>
          </pool>
          <pool type='dir'>
            <name>images</name>
            <uuid>8d0c7c4a-3f3e-4f3b-9b1a-2a2f8e0c0003</uuid>
            <capacity unit='GiB'>100</capacity>
            <allocation unit='GiB'>6</allocation>
            <available unit='GiB'>94</available>
            <target><path>/var/lib/guesthouse/images</path></target>
            <volume type='file'><name>Debian-12_amd64_qcow2.img</name><capacity unit='GiB'>2</capacity><allocation unit='MiB'>420</allocation><target><format type='qcow2'/></target></volume>
            <volume type='file'><name>Ubuntu-24.04_amd64_qcow2.img</name><capacity unit='GiB'>3</capacity><allocation unit='MiB'>610</allocation><target><format type='qcow2'/></target></volume>
            <volume type='file'><name>Centos-7_amd64_raw.img</name><capacity unit='GiB'>8</capacity><allocation unit='GiB'>8</allocation><target><format type='raw'/></target></volume>
          </pool>
        """)
        parts.append("</node>")
        return parts.joined(separator: "\n") + "\n"
    }

    private static func mac(_ index: Int) -> String {
        String(format: "52:54:00:%02x:%02x:%02x", (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff)
    }

    private static func domain(name: String, index: Int, memoryMiB: Int, cpus: Int, running: Bool,
                               metadata: VmangoMetadata? = nil) -> String {
        let uuid = String(format: "6f1e8f2a-0000-4000-8000-%012x", index)
        let mac = mac(index)
        return """
          <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
            <name>\(xmlEscape(name))</name>
            <uuid>\(uuid)</uuid>
            <memory unit='MiB'>\(memoryMiB)</memory>
            <vcpu>\(cpus)</vcpu>
            <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>\(metadata.map { "\n    <metadata>\($0.xml)</metadata>" } ?? "")
            <on_poweroff>destroy</on_poweroff>
            <devices>
              <interface type='network'><mac address='\(mac)'/><source network='guesthouse'/><model type='virtio'/></interface>
            </devices>\(running ? "" : "\n    <test:runstate>5</test:runstate>")
          </domain>
        """
    }

    /// Writes the node file under `directory` and returns the test-driver URI that loads it.
    public static func write(to directory: URL, extraGuests: Int = 0) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("guesthouse-demo.xml")
        try nodeXML(extraGuests: extraGuests).write(to: file, atomically: true, encoding: .utf8)
        return "test://\(file.path)"
    }
}
