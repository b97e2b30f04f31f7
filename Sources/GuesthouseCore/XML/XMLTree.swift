import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small XML element tree, enough to read libvirt's documents and to write back the ones
/// Guesthouse changes (see `parse(_:preservingLayout:)`).
public final class XMLTree: Sendable {
    public let name: String
    public let attributes: [String: String]
    public let children: [XMLTree]
    /// The element's own text (concatenated character data), untrimmed.
    public let text: String
    /// Attribute names in document order, from a layout-preserving parse (namespace declarations
    /// first); attributes not named here render after these, sorted.
    public let attributeOrder: [String]
    /// The character data around the children, in document order (`children.count + 1` runs:
    /// before the first child, between children, after the last), from a layout-preserving parse;
    /// nil otherwise or once the children changed in number.
    public let textRuns: [String]?

    public init(name: String, attributes: [String: String] = [:], children: [XMLTree] = [], text: String = "",
                attributeOrder: [String] = [], textRuns: [String]? = nil) {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
        self.attributeOrder = attributeOrder
        self.textRuns = textRuns.flatMap { $0.count == children.count + 1 ? $0 : nil }
    }

    /// Parses a document and returns its root element.
    /// - Throws: `GuesthouseError.invalidArguments` when the text is not well-formed XML.
    public static func parse(_ xml: String) throws -> XMLTree {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        guard parser.parse(), let root = builder.root else {
            throw GuesthouseError.invalid("malformed XML: \(parser.parserError?.localizedDescription ?? "no root element")")
        }
        return root
    }

    /// Parses a document keeping what a write-back must not change: attribute order (namespace
    /// declarations first), every text run untrimmed, including the whitespace and text between
    /// child elements. Slower than `parse(_:)`; for definitions that are changed and written back.
    /// - Throws: `GuesthouseError.invalidArguments` when the text is not well-formed XML.
    public static func parse(_ xml: String, preservingLayout: Bool) throws -> XMLTree {
        guard preservingLayout else { return try parse(xml) }
        let document: XMLDocument
        do {
            document = try XMLDocument(xmlString: xml, options: [.nodePreserveWhitespace])
        } catch {
            throw GuesthouseError.invalid("malformed XML: \(error.localizedDescription)")
        }
        guard let root = document.rootElement() else { throw GuesthouseError.invalid("malformed XML: no root element") }
        return tree(of: root)
    }

    private static func tree(of element: XMLElement) -> XMLTree {
        var attributes: [String: String] = [:]
        var order: [String] = []
        for namespace in element.namespaces ?? [] {
            let key = (namespace.name ?? "").isEmpty ? "xmlns" : "xmlns:" + (namespace.name ?? "")
            attributes[key] = namespace.stringValue ?? ""
            order.append(key)
        }
        for attribute in element.attributes ?? [] {
            guard let key = attribute.name else { continue }
            if attributes[key] == nil { order.append(key) }
            attributes[key] = attribute.stringValue ?? ""
        }
        var children: [XMLTree] = []
        var runs = [""]
        for node in element.children ?? [] {
            if let child = node as? XMLElement {
                children.append(tree(of: child))
                runs.append("")
            } else if node.kind == .text {
                runs[runs.count - 1] += node.stringValue ?? ""
            }
        }
        return XMLTree(name: element.name ?? "", attributes: attributes, children: children, text: runs.joined(),
                       attributeOrder: order, textRuns: runs)
    }

    /// The first child element with this name.
    public func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// Every child element with this name.
    public func children(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }

    /// Follows a path of child names, e.g. `["os", "type"]`.
    public func path(_ names: String...) -> XMLTree? {
        var node: XMLTree? = self
        for name in names { node = node?.child(name) }
        return node
    }

    /// The element's text, trimmed of surrounding whitespace.
    public var trimmedText: String {
        // By hand: Foundation's trimmingCharacters bridges through NSString and showed in profiles.
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }

    /// The attribute's value.
    public subscript(attribute: String) -> String? { attributes[attribute] }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    private final class Node {
        let name: String
        let attributes: [String: String]
        var children: [XMLTree] = []
        var text = ""
        init(name: String, attributes: [String: String]) {
            self.name = name
            self.attributes = attributes
        }
    }

    private var stack: [Node] = []
    var root: XMLTree?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String]) {
        stack.append(Node(name: elementName, attributes: attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack.last?.text += string
    }

    /// CDATA sections are text too (vmango wrote user data in one).
    func parser(_ parser: XMLParser, foundCDATA block: Data) {
        stack.last?.text += String(decoding: block, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let node = stack.popLast() else { return }
        let tree = XMLTree(name: node.name, attributes: node.attributes, children: node.children, text: node.text)
        if let parent = stack.last { parent.children.append(tree) } else { root = tree }
    }
}

/// Escapes text for XML character data and attribute values (both quote kinds).
public func xmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for ch in text.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default:
            // Control characters other than tab/newline/CR are not allowed in XML 1.0.
            if ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r" { continue }
            out.unicodeScalars.append(ch)
        }
    }
    return out
}
