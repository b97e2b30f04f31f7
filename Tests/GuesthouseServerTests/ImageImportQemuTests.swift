import Foundation
import GuesthouseCore
import Libvirt
import Testing

extension ImageTransferQemuSuites {
    /// Images from other hypervisors on qemu:///system: VMDK and VHDX files become volumes equal to
    /// their source (checked with `qemu-img compare`), refusals leave nothing, and an OVA built here
    /// (streamOptimized VMDK + an OVF, packed by GNU tar) becomes a guest that boots.
    @Suite struct ImageImportQemuTests {
        /// A directory of the test's own files, removed afterwards.
        static func withWorkDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
            let dir = "/var/tmp/ghimg-test-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            return try await body(dir)
        }

        static func volumePath(pool: String, name: String) throws -> String {
            try Connection(uri: "qemu:///system").storagePool(name: pool).volume(name: name).path()
        }

        @Test func vmdkAndVhdxImagesImportIntoAPoolEqualToTheirSource() async throws {
            let source = try Tool.testImage()
            try await QemuScratch.with { scratch, client in
                try await Self.withWorkDirectory { dir in
                    for format in ["vmdk", "vhdx"] {
                        let file = "\(dir)/image.\(format)"
                        try Tool.check(["qemu-img", "convert", "-f", "raw", "-O", format, source, file])
                        let name = "\(scratch.prefix)-\(format)"
                        let res = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/images?name=\(name)",
                                                        bytes: try Data(contentsOf: URL(fileURLWithPath: file)))
                        #expect(res.status == 201, "\(res.text)")
                        #expect(res.location == "/kvm/localhost/storages/\(scratch.pool)/images/\(name)")
                        #expect(res.object["format"] as? String == "qcow2")
                        #expect(try scratch.volumes().contains(name))
                        let path = try Self.volumePath(pool: scratch.pool, name: name)
                        // Independent check: the volume holds the same disk as the source.
                        let info = try Tool.check(["qemu-img", "info", "--output=json", path])
                        #expect(info.contains("\"format\": \"qcow2\""))
                        let compare = try Tool.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", source, path])
                        #expect(compare.status == 0, "\(compare.output)")
                        let shown = try await client.get("/kvm/localhost/storages/\(scratch.pool)/images/\(name)")
                        #expect(shown.status == 200)
                    }
                }
            }
        }

        @Test func unsupportedOrOversizedImagesAreRefusedAndLeaveNothing() async throws {
            try await QemuScratch.with { scratch, client in
                try await Self.withWorkDirectory { dir in
                    let before = try scratch.volumes()
                    try Tool.check(["qemu-img", "create", "-q", "-f", "vdi", "\(dir)/a.vdi", "16M"])
                    let vdi = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/images?name=\(scratch.prefix)-vdi",
                                                    bytes: try Data(contentsOf: URL(fileURLWithPath: "\(dir)/a.vdi")))
                    #expect(vdi.status == 400)
                    #expect(vdi.text.contains("vdi"))
                    // A qcow2 of 1 PiB virtual size fits in no scratch pool.
                    try Tool.check(["qemu-img", "create", "-q", "-f", "qcow2", "\(dir)/huge.qcow2", "1P"])
                    let huge = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/images?name=\(scratch.prefix)-huge",
                                                     bytes: try Data(contentsOf: URL(fileURLWithPath: "\(dir)/huge.qcow2")))
                    #expect(huge.status == 409, "\(huge.text)")
                    #expect(huge.text.contains(scratch.pool) && huge.text.contains("free") && huge.text.contains("needs"))
                    // A qcow2 naming a backing file on the host could read host files: refused.
                    try Tool.check(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/hostname",
                                    "\(dir)/backed.qcow2", "1M"])
                    let backed = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/images?name=\(scratch.prefix)-b",
                                                       bytes: try Data(contentsOf: URL(fileURLWithPath: "\(dir)/backed.qcow2")))
                    #expect(backed.status == 400)
                    let badName = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/images?name=../x",
                                                        bytes: Data([1, 2, 3]))
                    #expect(badName.status == 400)
                    #expect(try scratch.volumes() == before)
                    let leftovers = try FileManager.default.contentsOfDirectory(atPath: "/var/tmp")
                        .filter { $0.hasPrefix("guesthouse-image-") || $0.hasPrefix("guesthouse-upload-") }
                    #expect(leftovers.isEmpty, "scratch directories left: \(leftovers)")
                }
            }
        }

        /// An OVF descriptor for one IDE disk, as VMware and VirtualBox write them.
        static func ovf(name: String, disk: String, capacity: UInt64, memoryMiB: Int) -> String {
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
              xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
              xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
              <References><File ovf:id="file1" ovf:href="\(disk)"/></References>
              <DiskSection>
                <Info>Virtual disks</Info>
                <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="\(capacity)"
                  ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
              </DiskSection>
              <VirtualSystem ovf:id="\(name)">
                <Info>A tiny test machine</Info>
                <Name>\(name)</Name>
                <VirtualHardwareSection>
                  <Info>Virtual hardware</Info>
                  <Item><rasd:ElementName>1 virtual CPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID>
                    <rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
                  <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>memory</rasd:ElementName>
                    <rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType>
                    <rasd:VirtualQuantity>\(memoryMiB)</rasd:VirtualQuantity></Item>
                  <Item><rasd:Address>0</rasd:Address><rasd:ElementName>IDE 0</rasd:ElementName>
                    <rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>5</rasd:ResourceType></Item>
                  <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>disk 1</rasd:ElementName>
                    <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID>
                    <rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
                </VirtualHardwareSection>
              </VirtualSystem>
            </Envelope>
            """
        }

        /// Builds `name.ova` in `dir` from the tiny test image with GNU tar (descriptor first).
        static func buildOVA(in dir: String, name: String, memoryMiB: Int = 192) throws -> String {
            let source = try Tool.testImage()
            try Tool.check(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                            source, "\(dir)/\(name)-disk1.vmdk"])
            let capacity = (try FileManager.default.attributesOfItem(atPath: source)[.size] as? NSNumber)?.uint64Value ?? 0
            try ovf(name: name, disk: "\(name)-disk1.vmdk", capacity: capacity, memoryMiB: memoryMiB)
                .write(toFile: "\(dir)/\(name).ovf", atomically: true, encoding: .utf8)
            try Tool.check(["tar", "--format=ustar", "-cf", "\(dir)/\(name).ova", "\(name).ovf", "\(name)-disk1.vmdk"], in: dir)
            return "\(dir)/\(name).ova"
        }

        @Test func anOVABecomesAGuestThatBootsAndPrintsItsMarker() async throws {
            try await QemuScratch.with { scratch, client in
                try await Self.withWorkDirectory { dir in
                    let name = "\(scratch.prefix)-ova"
                    let ova = try Self.buildOVA(in: dir, name: name)
                    #expect(try Tool.check(["tar", "-tf", ova]).split(separator: "\n").first == "\(name).ovf")
                    let res = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/guests",
                                                    bytes: try Data(contentsOf: URL(fileURLWithPath: ova)))
                    #expect(res.status == 201, "\(res.text)")
                    #expect(res.object["name"] as? String == name)
                    #expect(res.object["cpus"] as? Int == 1)
                    #expect(res.object["memory"] as? Int == 192)
                    #expect(try scratch.volumes() == ["\(name)-disk0.qcow2"])

                    // The definition as libvirt holds it: domain type qemu, the disk on IDE over the new volume.
                    let conn = try Connection(uri: "qemu:///system")
                    let domain = try conn.domain(name: name)
                    let xml = try domain.xml(inactive: true)
                    let tree = try XMLTree.parse(xml)
                    #expect(tree["type"] == "qemu")
                    let disk = tree.child("devices")?.children("disk").first
                    #expect(disk?.child("target")?["bus"] == "ide")
                    #expect(disk?.child("source")?["volume"] == "\(name)-disk0.qcow2")
                    let path = try Self.volumePath(pool: scratch.pool, name: "\(name)-disk0.qcow2")
                    #expect(try Tool.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", try Tool.testImage(), path]).status == 0)

                    // The same OVA again: the name is taken, and nothing more is made.
                    let again = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/guests",
                                                      bytes: try Data(contentsOf: URL(fileURLWithPath: ova)))
                    #expect(again.status == 409)
                    #expect(try scratch.volumes() == ["\(name)-disk0.qcow2"])

                    // Boot it with its serial console logged to a file, and read the marker.
                    let serialLog = "/var/log/libvirt/qemu/\(name)-serial.log"
                    defer { try? FileManager.default.removeItem(atPath: serialLog) }
                    let logged = xml.replacingOccurrences(of: "<serial type='pty'>",
                                                          with: "<serial type='pty'><log file='\(serialLog)' append='off'/>")
                    #expect(logged != xml)
                    _ = try conn.defineDomain(xml: logged)
                    let started = try await client.put("/kvm/localhost/guests/\(name)/power", #"{"state": "start"}"#)
                    #expect(started.status == 200, "\(started.text)")
                    let log = try await VmangoQemuTests.waitForLog(serialLog, containing: "GUESTHOUSE-BOOTED", seconds: 240)
                    #expect(log.contains("GUESTHOUSE-BOOTED"))
                    _ = try await client.put("/kvm/localhost/guests/\(name)/power", #"{"state": "force_stop"}"#)
                }
            }
        }

        /// An OVA with a manifest: a wrong digest refuses it naming the file, with nothing left; the
        /// right digests (from sha256sum and sha1sum) import it. Its network adapters attach to the
        /// network of their name (one the test defines), else to `default` (if the host has it).
        @Test func anOVAManifestIsCheckedAndItsNetworkAdaptersAttachByName() async throws {
            try await QemuScratch.with { scratch, client in
                try await Self.withWorkDirectory { dir in
                    let name = "\(scratch.prefix)-mf"
                    let network = "\(scratch.prefix)-net"
                    let conn = try Connection(uri: "qemu:///system")
                    _ = try conn.defineNetwork(xml: "<network><name>\(network)</name></network>")  // isolated, never started
                    defer { try? conn.network(name: network).undefine() }
                    let hasDefault = (try? conn.network(name: "default")) != nil
                    let vmdk = "\(name)-disk1.vmdk"
                    try Tool.check(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized",
                                    try Tool.testImage(), "\(dir)/\(vmdk)"])
                    let nics = """
                        <Item><rasd:Connection>\(network)</rasd:Connection><rasd:InstanceID>5</rasd:InstanceID>
                          <rasd:ResourceSubType>E1000</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
                        <Item><rasd:Connection>VM Network</rasd:Connection><rasd:InstanceID>6</rasd:InstanceID>
                          <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
                        </VirtualHardwareSection>
                        """
                    try Self.ovf(name: name, disk: vmdk, capacity: 64 << 20, memoryMiB: 128)
                        .replacingOccurrences(of: "</VirtualHardwareSection>", with: nics)
                        .write(toFile: "\(dir)/\(name).ovf", atomically: true, encoding: .utf8)
                    func digest(_ tool: String, _ file: String) throws -> String {
                        String(try Tool.check([tool, file], in: dir).split(separator: " ").first ?? "")
                    }
                    let ovfSHA256 = try digest("sha256sum", "\(name).ovf")
                    let vmdkSHA1 = try digest("sha1sum", vmdk)
                    func ova(manifest: String) throws -> Data {
                        try manifest.write(toFile: "\(dir)/\(name).mf", atomically: true, encoding: .utf8)
                        try Tool.check(["tar", "--format=ustar", "-cf", "\(dir)/\(name).ova", "\(name).ovf", "\(name).mf", vmdk], in: dir)
                        return try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).ova"))
                    }

                    let wrong = String(vmdkSHA1.reversed())
                    let bad = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/guests",
                                                    bytes: try ova(manifest: "SHA256(\(name).ovf)= \(ovfSHA256)\nSHA1(\(vmdk))= \(wrong)\n"))
                    #expect(bad.status == 400, "\(bad.text)")
                    #expect(bad.text.contains(vmdk) && bad.text.contains("manifest"), "\(bad.text)")
                    #expect(try scratch.volumes().isEmpty)
                    #expect(try await client.get("/kvm/localhost/guests/\(name)").status == 404)

                    let good = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/guests",
                                                     bytes: try ova(manifest: "SHA256(\(name).ovf)= \(ovfSHA256)\nSHA1(\(vmdk))= \(vmdkSHA1)\n"))
                    #expect(good.status == 201, "\(good.text)")
                    #expect(try scratch.volumes() == ["\(name)-disk0.qcow2"])
                    let tree = try XMLTree.parse(try conn.domain(name: name).xml(inactive: true))
                    let interfaces = tree.child("devices")?.children("interface") ?? []
                    let attached = interfaces.map { ($0.child("source")?["network"] ?? "", $0.child("model")?["type"] ?? "") }
                    let expected = hasDefault ? [(network, "e1000"), ("default", "vmxnet3")] : [(network, "e1000")]
                    #expect(attached.map(\.0) == expected.map(\.0))
                    #expect(attached.map(\.1) == expected.map(\.1))
                }
            }
        }

        @Test func aCorruptOVALeavesNothing() async throws {
            try await QemuScratch.with { scratch, client in
                try await Self.withWorkDirectory { dir in
                    let name = "\(scratch.prefix)-bad"
                    try "<Envelope><VirtualSystem><Name>\(name)</Name></VirtualSystem></Envelope>"
                        .write(toFile: "\(dir)/\(name).ovf", atomically: true, encoding: .utf8)
                    try Tool.check(["tar", "--format=ustar", "-cf", "\(dir)/bad.ova", "\(name).ovf"], in: dir)
                    let res = try await client.send(.post, "/kvm/localhost/guests",
                                                    bytes: try Data(contentsOf: URL(fileURLWithPath: "\(dir)/bad.ova")))
                    #expect(res.status == 400)
                    #expect(res.text.contains("VirtualHardwareSection"))
                    #expect(try await client.get("/kvm/localhost/guests/\(name)").status == 404)
                    #expect(try scratch.volumes().isEmpty)
                }
            }
        }
    }
}
