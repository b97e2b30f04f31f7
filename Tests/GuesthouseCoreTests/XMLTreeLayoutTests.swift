import GuesthouseCore
import Testing

/// A tree parsed keeping its layout writes back what it read: attribute order, untrimmed text,
/// the text between elements; a change alters only what it changes.
@Suite struct XMLTreeLayoutTests {
    static let document = """
    <domain type="kvm" id="3"><description>  two  spaces
    \tand a tab </description><metadata>
        <x:note xmlns:x="urn:x" zeta="1" alpha="2">  keep <x:b c="3" a="4"/> tail </x:note>
      </metadata><devices><disk type="file" device="disk"><target dev="vda" bus="virtio"/></disk></devices></domain>
    """

    @Test func aTreeWritesBackWhatItRead() throws {
        let tree = try XMLTree.parse(Self.document, preservingLayout: true)
        #expect(tree.rendered() == Self.document.replacingOccurrences(of: "\"", with: "'"))
    }

    @Test func aChangeAltersOnlyItself() throws {
        let tree = try XMLTree.parse(Self.document, preservingLayout: true)
        let devices = try #require(tree.child("devices"))
        let added = XMLTree(name: "interface", attributes: ["type": "network"])
        let changed = tree.replacingChild("devices", with: devices.with(children: devices.children + [added]))
        let expected = Self.document.replacingOccurrences(of: "\"", with: "'")
            .replacingOccurrences(of: "</disk></devices>", with: "</disk><interface type='network'/></devices>")
        #expect(changed.rendered() == expected)
    }

    @Test func aNewAttributeGoesAfterTheKeptOnes() throws {
        let disk = try XMLTree.parse("<target dev='vda' bus='virtio'/>", preservingLayout: true)
        #expect(disk.setting("alias", "x").setting("dev", "vdb").rendered() == "<target dev='vdb' bus='virtio' alias='x'/>")
    }

    @Test func plainParsesKeepTextUntrimmed() throws {
        let tree = try XMLTree.parse("<description>  a  </description>")
        #expect(tree.rendered() == "<description>  a  </description>")
    }
}
