import Foundation
import GuesthouseCore
import Libvirt
import Testing

/// libvirt and Guesthouse share the process's libxml2. libvirt validates a define against its
/// RelaxNG schemas, loading each included file through libxml2's process-wide entity loader, while
/// Guesthouse parses on other threads. FoundationXML replaced that loader with one that calls back
/// into Foundation (a test process died there at a null function pointer once), so nothing in the
/// process may bring FoundationXML in.
@Suite struct SharedLibxml2Tests {
    @Test func validatedDefinesRunBesideParsesAndFoundationXMLIsNotLoaded() async throws {
        let conn = try fixtureConnection()
        let names = (0..<24).map { "xmlshare-\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names {
                group.addTask {
                    let domain = try conn.defineDomain(xml: """
                        <domain type='test'><name>\(name)</name><memory>1024</memory><os><type>hvm</type></os></domain>
                        """, validate: true)
                    #expect(try XMLTree.parse(try domain.xml()).path("name")?.text == name)
                }
                group.addTask {
                    for _ in 0..<20 { _ = try XMLTree.parse("<a xmlns:v='urn:v'><v:b>\(name)</v:b></a>", preservingLayout: true) }
                }
            }
            try await group.waitForAll()
        }
        #expect(Set(try conn.allDomains().map(\.name)).isSuperset(of: names))
        // A schema violation is still caught, so validation did run.
        #expect(throws: LibvirtError.self) {
            try conn.defineDomain(xml: "<domain type='test'><name>bad</name><memory>lots</memory></domain>", validate: true)
        }
        // Read to its end: /proc files have no size, and a one-shot read gets the first page.
        let maps = String(decoding: try #require(FileHandle(forReadingAtPath: "/proc/self/maps")).readDataToEndOfFile(),
                          as: UTF8.self)
        #expect(maps.contains("libxml2"))
        let foundationXML = maps.split(separator: "\n").filter { $0.contains("FoundationXML") }
        #expect(foundationXML.isEmpty, "FoundationXML is mapped: \(foundationXML)")
    }
}
