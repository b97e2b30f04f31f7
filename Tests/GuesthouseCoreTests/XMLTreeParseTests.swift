import Foundation
import GuesthouseCore
import Testing

/// What a parse keeps and what it refuses: prefixed names, namespace declarations as attributes,
/// CDATA as text, no entity loaded from outside the document, and errors that say where.
@Suite struct XMLTreeParseTests {
    @Test func namesKeepTheirPrefixAndDeclarationsAreAttributes() throws {
        let tree = try XMLTree.parse(#"<a xmlns="urn:d" xmlns:v="urn:v"><v:b x="1" v:y="2"/></a>"#)
        #expect(tree.name == "a")
        #expect(tree.attributes == ["xmlns": "urn:d", "xmlns:v": "urn:v"])
        #expect(tree.children.map(\.name) == ["v:b"])
        #expect(tree.children[0].attributes == ["x": "1", "v:y": "2"])
        #expect(tree.attributeOrder.isEmpty && tree.textRuns == nil)
    }

    @Test func textIsTheElementsOwnCharacterDataWithCDATAAndReferences() throws {
        let tree = try XMLTree.parse("<a>one <b>inner</b> t&amp;&#65;<![CDATA[<user-data> & more]]>\n</a>")
        #expect(tree.text == "one  t&A<user-data> & more\n")
        #expect(tree.child("b")?.text == "inner")
        #expect(tree.trimmedText == "one  t&A<user-data> & more")
        let attribute = try XMLTree.parse(#"<a v="x &lt; y &#38; &quot;z&quot;"/>"#)
        #expect(attribute["v"] == #"x < y & "z""#)
    }

    @Test func nothingIsLoadedFromOutsideTheDocument() throws {
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("gh-xxe-\(UUID().uuidString)")
        try "not for the document".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        let xml = """
        <?xml version="1.0"?>
        <!DOCTYPE a [<!ENTITY file SYSTEM "\(secret.absoluteString)"><!ENTITY net SYSTEM "http://127.0.0.1:9/x">]>
        <a>[&file;][&net;]</a>
        """
        let tree = try XMLTree.parse(xml)
        #expect(tree.text == "[][]")
        #expect(!tree.text.contains("not for the document"))
    }

    @Test func aMalformedDocumentIsRefusedSayingWhere() throws {
        for xml in ["", "   ", "<a>", "<a></b>", "text", "<a>\u{0}</a>"] {
            do {
                _ = try XMLTree.parse(xml)
                Issue.record("\(xml.debugDescription) parsed")
            } catch let error as GuesthouseError {
                #expect(error.httpStatus == 400, "\(xml.debugDescription)")
                #expect(error.message.hasPrefix("malformed XML: "), "\(error.message)")
            }
        }
        do {
            _ = try XMLTree.parse("<a>\n<b>\n</a>")
            Issue.record("a mismatched tag parsed")
        } catch let error as GuesthouseError {
            #expect(error.message.contains("line 3"), "\(error.message)")
        }
    }

    @Test func manyThreadsParseAtOnce() async throws {
        let xml = (0..<200).map { "<disk n='\($0)'><target dev='vd\($0)'/></disk>" }.joined()
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 { group.addTask { try XMLTree.parse("<devices>\(xml)</devices>").children.count } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 200, count: 16))
    }
}
