import Foundation
import GuesthouseCore
@testable import GuesthouseVmango
import Testing

@Suite struct VmangoTemplateTests {
    @Test func vmangosGoTemplatesAreRead() {
        let go = "<name>{{ .Machine.Name }}</name><memory unit='b'>{{.Plan.Memory}}</memory><metadata>{{ .Metadata }}</metadata>"
        #expect(MachineTemplates.fromGoTemplate(go)
            == "<name>{{Machine.Name}}</name><memory unit='b'>{{Plan.Memory}}</memory><metadata>{{{Metadata}}}</metadata>")
    }

    @Test func valuesAreEscapedButMetadataIsNot() throws {
        let templates = MachineTemplates()
        let xml = templates.renderDomain([
            "DomainType": "qemu", "Machine": ["Name": "a'<b>&", "Uuid": "u", "HWAddr": "m"] as [String: Any],
            "Plan": ["Memory": 1, "Cpus": 1] as [String: Any], "Image": ["Arch": "x86_64"],
            "RootVolume": ["Format": "qcow2"], "VolumePath": "/p", "Network": "n", "Metadata": "<vmango:md xmlns:vmango='x'/>",
        ])
        let tree = try XMLTree.parse(xml)
        #expect(tree.child("name")?.text == "a'<b>&")
        #expect(xml.contains("<vmango:md xmlns:vmango='x'/>"))
        // No config drive: no CD-ROM at all.
        #expect(!xml.contains("cdrom"))
    }

    @Test func theConfigDriveHasOpenStacksLayoutAndLabel() throws {
        let drive = ConfigDrive(hostname: "vm1", uuid: "4fe88494-0a38-4a15-b039-f94a9bea4934",
                                publicKeys: [MachineSSHKey(name: "test", publicKey: "ssh-ed25519 AAAA t@h")],
                                userdata: "#cloud-config\n")
        let metadata = try JSONSerialization.jsonObject(with: drive.metadataJSON) as? [String: Any] ?? [:]
        #expect(metadata["hostname"] as? String == "vm1")
        #expect(metadata["name"] as? String == "vm1")
        #expect(metadata["uuid"] as? String == "4fe88494-0a38-4a15-b039-f94a9bea4934")
        #expect((metadata["public_keys"] as? [String: String]) == ["test": "ssh-ed25519 AAAA t@h"])
        let iso = try drive.isoImage()
        // ISO 9660: the primary volume descriptor at 32 KiB, its label at byte 40 of it.
        #expect(iso.count > 32_768 + 72)
        let descriptor = iso.subdata(in: 32_768..<(32_768 + 72))
        #expect(String(decoding: descriptor[1..<6], as: UTF8.self) == "CD001")
        #expect(String(decoding: descriptor[40..<48], as: UTF8.self) == "config-2")
        let text = String(decoding: iso, as: UTF8.self)
        #expect(text.contains("\"hostname\":\"vm1\""))
        #expect(text.contains("#cloud-config"))
    }
}
