import Foundation

/// A small XML element tree, enough to read libvirt's documents and to write back the ones
/// Guesthouse changes (see `parse(_:preservingLayout:)`, in XMLTree+Parse.swift).
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
