import Foundation
import GuesthouseCore
import GuesthouseLibvirt
import Libvirt
import Testing

/// Tags are one metadata element per tag (per-key `virDomainSetMetadata`); tags in the older
/// single-element list are read and moved into elements of their own on the first change.
@Suite struct TagStorageTests {
    static let legacyMetadata = """
    <metadata>
          <gh:tags xmlns:gh="http://guesthouse.dev/schema/1"><gh:tag>old one</gh:tag><gh:tag>db</gh:tag></gh:tags>
          <x:note xmlns:x="urn:example:x" zeta="1" alpha="2">  keep <x:b c="3" a="4"/> tail </x:note>
        </metadata>
    """

    static func node() -> String {
        let start = DefinitionRewriteTests.node.range(of: "<metadata>")!.lowerBound
        let end = DefinitionRewriteTests.node.range(of: "</metadata>")!.upperBound
        return DefinitionRewriteTests.node.replacingCharacters(in: start..<end, with: legacyMetadata)
    }

    @Test func eachTagIsAnElementOfItsOwn() async throws {
        let (hv, conn, dir) = try await DefinitionRewriteTests.hypervisor()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try await hv.addTag(guestID: "kept", "web") == ["web"])
        #expect(try await hv.addTag(guestID: "kept", "a b/c".replacingOccurrences(of: "/", with: "&")) == ["web", "a b&c"])
        #expect(try await hv.addTag(guestID: "kept", "web") == ["web", "a b&c"])
        let xml = try conn.domain(name: "kept").xml(inactive: true)
        #expect(xml.contains(#"<ghtag:tag xmlns:ghtag="http://guesthouse.dev/schema/1/tag/web">web</ghtag:tag>"#))
        #expect(xml.contains(#"xmlns:ghtag="http://guesthouse.dev/schema/1/tag/a%20b%26c">a b&amp;c</ghtag:tag>"#))
        #expect(try await hv.removeTag(guestID: "kept", "web") == ["a b&c"])
        #expect(!(try conn.domain(name: "kept").xml(inactive: true)).contains("/tag/web"))
        // The hand-written metadata beside the tags is untouched.
        #expect(try conn.domain(name: "kept").xml(inactive: true).contains(#"zeta="1" alpha="2" mid="3">  keep "#))
    }

    @Test func tagsOfTheOldSingleElementAreReadAndMigratedOnTheFirstChange() async throws {
        let (hv, conn, dir) = try await DefinitionRewriteTests.hypervisor(node: Self.node())
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try await hv.tags(guestID: "kept") == ["old one", "db"])
        // Reading never writes.
        #expect(try conn.domain(name: "kept").xml(inactive: true).contains("http://guesthouse.dev/schema/1\""))
        #expect(try await hv.addTag(guestID: "kept", "new") == ["old one", "db", "new"])
        let xml = try conn.domain(name: "kept").xml(inactive: true)
        #expect(!xml.contains("http://guesthouse.dev/schema/1\""), "the old list is gone")
        #expect(xml.contains("http://guesthouse.dev/schema/1/tag/old%20one"))
        #expect(xml.contains("http://guesthouse.dev/schema/1/tag/db"))
        #expect(xml.contains(#"zeta="1" alpha="2">  keep <x:b c="3" a="4"/> tail </x:note>"#))
        #expect(try await hv.removeTag(guestID: "kept", "db") == ["old one", "new"])
    }
}
