import GuesthouseCore
import Testing

@Suite struct OVFDescriptorTests {
    static let vmwareStyle = """
    <?xml version="1.0"?>
    <ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
      <ovf:References>
        <ovf:File ovf:id="f1" ovf:href="web-disk1.vmdk"/>
        <ovf:File ovf:id="f2" ovf:href="web-disk2.vmdk"/>
      </ovf:References>
      <ovf:DiskSection>
        <ovf:Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="10"/>
        <ovf:Disk ovf:diskId="d2" ovf:fileRef="f2" ovf:capacity="10"/>
      </ovf:DiskSection>
      <ovf:VirtualSystem ovf:id="web-1">
        <ovf:VirtualHardwareSection>
          <ovf:Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity></ovf:Item>
          <ovf:Item><rasd:AllocationUnits>byte * 2^30</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></ovf:Item>
          <ovf:Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>6</rasd:ResourceType></ovf:Item>
          <ovf:Item><rasd:InstanceID>4</rasd:InstanceID><rasd:ResourceType>20</rasd:ResourceType></ovf:Item>
          <ovf:Item><rasd:HostResource>ovf:/disk/d2</rasd:HostResource><rasd:InstanceID>5</rasd:InstanceID><rasd:Parent>4</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></ovf:Item>
          <ovf:Item><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>6</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></ovf:Item>
        </ovf:VirtualHardwareSection>
      </ovf:VirtualSystem>
    </ovf:Envelope>
    """

    @Test func nameCPUsMemoryAndDisksComeFromTheDescriptor() throws {
        let ovf = try OVFDescriptor(parsing: Self.vmwareStyle)
        #expect(ovf.name == "web-1")  // no <Name>: the system's id
        #expect(ovf.cpus == 4)
        #expect(ovf.memoryMiB == 2048)
        #expect(ovf.disks == [.init(file: "web-disk2.vmdk", bus: "sata"), .init(file: "web-disk1.vmdk", bus: "scsi")])
    }

    @Test func missingHardwareAndEscapingReferencesAreRefused() throws {
        #expect(throws: GuesthouseError.self) { try OVFDescriptor(parsing: "<Envelope><VirtualSystem><Name>x</Name></VirtualSystem></Envelope>") }
        let escaping = Self.vmwareStyle.replacingOccurrences(of: "web-disk1.vmdk", with: "../../etc/shadow")
        #expect(throws: GuesthouseError.self) { try OVFDescriptor(parsing: escaping) }
        let noMemory = Self.vmwareStyle.replacingOccurrences(of: "<rasd:ResourceType>4</rasd:ResourceType>", with: "")
        #expect(throws: GuesthouseError.self) { try OVFDescriptor(parsing: noMemory) }
        #expect(throws: GuesthouseError.self) { try OVFDescriptor(parsing: "not xml") }
    }

    @Test func networkAdaptersAreReadAndAttachedByTheNameRule() throws {
        let nics = """
          <ovf:Item><rasd:Connection>VM Network</rasd:Connection><rasd:InstanceID>7</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></ovf:Item>
          <ovf:Item><rasd:Connection>lab</rasd:Connection><rasd:InstanceID>8</rasd:InstanceID><rasd:ResourceSubType>E1000</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></ovf:Item>
          <ovf:Item><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></ovf:Item>
        </ovf:VirtualHardwareSection>
        """
        let ovf = try OVFDescriptor(parsing: Self.vmwareStyle.replacingOccurrences(of: "</ovf:VirtualHardwareSection>", with: nics))
        #expect(ovf.networks == [.init(connection: "VM Network", model: "vmxnet3"), .init(connection: "lab", model: "e1000"),
                                 .init(connection: "", model: "e1000")])
        #expect(try OVFDescriptor(parsing: Self.vmwareStyle).networks.isEmpty)

        // Its own name if the host has it, else `default`, else left out with a warning.
        let withDefault = OVAImport.interfaces(for: ovf.networks, hostNetworks: ["lab", "default"])
        #expect(withDefault.interfaces.map(\.network) == ["default", "lab", "default"])
        #expect(withDefault.interfaces.map(\.model) == ["vmxnet3", "e1000", "e1000"])
        #expect(withDefault.warnings.isEmpty)
        let without = OVAImport.interfaces(for: ovf.networks, hostNetworks: ["lab"])
        #expect(without.interfaces.map(\.network) == ["lab"])
        #expect(without.warnings.count == 2)
        #expect(without.warnings.first?.contains("VM Network") == true)
    }

    @Test func allocationUnitsAreRead() throws {
        for (unit, quantity) in [("MegaBytes", "512"), ("byte * 2^20", "512"), ("KiloBytes", "524288"), ("byte", "536870912")] {
            let xml = Self.vmwareStyle.replacingOccurrences(of: "byte * 2^30", with: unit)
                .replacingOccurrences(of: "<rasd:VirtualQuantity>2</rasd:VirtualQuantity>", with: "<rasd:VirtualQuantity>\(quantity)</rasd:VirtualQuantity>")
            #expect(try OVFDescriptor(parsing: xml).memoryMiB == 512, "\(unit)")
        }
    }
}
