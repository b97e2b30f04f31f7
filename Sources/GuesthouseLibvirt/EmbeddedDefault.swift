import Foundation
import GuesthouseCore

/// The demo that `guesthouse serve` runs without a configuration: libvirt's in-process test driver
/// loaded from a node file with a few guests, an isolated network and an image pool whose volumes
/// are named like vmango images.
public enum EmbeddedDefault {
    /// A test-driver node document with `guests` demo guests (at least the three named ones).
    public static func nodeXML(extraGuests: Int = 0) -> String {
        var parts = ["<node>"]
        parts.append(domain(name: "web-1", index: 0, memoryMiB: 1024, cpus: 2, running: true))
        parts.append(domain(name: "db-1", index: 1, memoryMiB: 2048, cpus: 2, running: true))
        parts.append(domain(name: "build-box", index: 2, memoryMiB: 512, cpus: 1, running: false))
        for i in 0..<extraGuests {
            parts.append(domain(name: String(format: "guest-%04d", i), index: 1000 + i, memoryMiB: 256, cpus: 1,
                                running: i % 2 == 0))
        }
        parts.append("""
          <network>
            <name>guesthouse</name>
            <uuid>8d0c7c4a-3f3e-4f3b-9b1a-2a2f8e0c0001</uuid>
            <bridge name='ghbr0'/>
            <ip address='192.168.150.1' netmask='255.255.255.0'>
              <dhcp><range start='192.168.150.100' end='192.168.150.200'/></dhcp>
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

    private static func domain(name: String, index: Int, memoryMiB: Int, cpus: Int, running: Bool) -> String {
        let uuid = String(format: "6f1e8f2a-0000-4000-8000-%012x", index)
        let mac = String(format: "52:54:00:%02x:%02x:%02x", (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff)
        return """
          <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
            <name>\(xmlEscape(name))</name>
            <uuid>\(uuid)</uuid>
            <memory unit='MiB'>\(memoryMiB)</memory>
            <vcpu>\(cpus)</vcpu>
            <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
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
