internal import CLibxml2

/// Reading documents with libxml2, the library libvirt itself parses with, into `XMLTree`s.
///
/// Not FoundationXML: its first parser installs a process-wide external entity loader in this same
/// libxml2 that calls back into Foundation, and libvirt loads its RelaxNG schemas through that
/// loader on its own threads (a define with validation did; a test process crashed at a null
/// function pointer there once). libxml2's tree is also cheaper than a Swift delegate per event.
extension XMLTree {
    /// Parses a document and returns its root element.
    /// - Throws: `GuesthouseError.invalidArguments` when the text is not well-formed XML.
    public static func parse(_ xml: String) throws -> XMLTree {
        try parse(xml, preservingLayout: false)
    }

    /// Parses a document; with `preservingLayout`, keeping what a write-back must not change:
    /// attribute order (namespace declarations first) and every text run untrimmed, including the
    /// whitespace and text between child elements (`attributeOrder`, `textRuns`). For definitions
    /// that are changed and written back.
    ///
    /// Namespace declarations are attributes (`xmlns`, `xmlns:p`) and names keep their prefix
    /// (`p:name`); CDATA sections are text; entities other than the predefined and character ones
    /// are neither loaded nor expanded, and nothing is fetched from the network.
    /// - Throws: `GuesthouseError.invalidArguments` when the text is not well-formed XML.
    public static func parse(_ xml: String, preservingLayout: Bool) throws -> XMLTree {
        _ = LibxmlDocument.initialized
        guard let context = xmlNewParserCtxt() else { throw GuesthouseError(.internalError, "libxml2 could not make a parser") }
        defer { xmlFreeParserCtxt(context) }
        var xml = xml
        let document = xml.withUTF8 { bytes -> xmlDocPtr? in
            guard let base = bytes.baseAddress, bytes.count < Int32.max else { return nil }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                xmlCtxtReadMemory(context, chars, Int32(bytes.count), nil, "UTF-8", LibxmlDocument.options)
            }
        }
        guard let document else { throw GuesthouseError.invalid("malformed XML: \(LibxmlDocument.lastError(context))") }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else { throw GuesthouseError.invalid("malformed XML: no root element") }
        return LibxmlDocument.tree(root, preservingLayout: preservingLayout)
    }
}

/// The walk from libxml2's nodes to `XMLTree`s.
private enum LibxmlDocument {
    /// libxml2 asks for one initialisation before threads parse (libvirt's calls do the same; it is
    /// guarded inside libxml2).
    static let initialized: Void = { xmlInitParser() }()

    /// No network, CDATA as text, errors kept in the context instead of printed.
    static let options = Int32(bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue
                                 | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    static func lastError(_ context: xmlParserCtxtPtr) -> String {
        guard let error = xmlCtxtGetLastError(context), let message = error.pointee.message else { return "not a document" }
        let text = XMLTree(name: "", text: String(cString: message)).trimmedText
        return error.pointee.line > 0 ? "line \(error.pointee.line): \(text)" : text
    }

    static func tree(_ element: xmlNodePtr, preservingLayout: Bool) -> XMLTree {
        var attributes: [String: String] = [:]
        var order: [String] = []
        var namespace = element.pointee.nsDef
        while let declared = namespace {
            let key = declared.pointee.prefix.map { "xmlns:" + string($0) } ?? "xmlns"
            attributes[key] = declared.pointee.href.map(string) ?? ""
            order.append(key)
            namespace = declared.pointee.next
        }
        var attribute = element.pointee.properties
        while let current = attribute {
            let key = name(current.pointee.name, current.pointee.ns)
            if attributes[key] == nil { order.append(key) }
            attributes[key] = text(current.pointee.children)
            attribute = current.pointee.next
        }
        var children: [XMLTree] = []
        var runs = [""]
        var node = element.pointee.children
        while let current = node {
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                children.append(tree(current, preservingLayout: preservingLayout))
                runs.append("")
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { runs[runs.count - 1] += string(content) }
            default:
                break
            }
            node = current.pointee.next
        }
        return XMLTree(name: name(element.pointee.name, element.pointee.ns), attributes: attributes, children: children,
                       text: runs.count == 1 ? runs[0] : runs.joined(),
                       attributeOrder: preservingLayout ? order : [], textRuns: preservingLayout ? runs : nil)
    }

    /// A node's name with its namespace prefix, as written.
    private static func name(_ local: UnsafePointer<xmlChar>?, _ namespace: xmlNsPtr?) -> String {
        let name = local.map(string) ?? ""
        guard let prefix = namespace?.pointee.prefix else { return name }
        return string(prefix) + ":" + name
    }

    /// The text of a node list (an attribute's value).
    private static func text(_ first: xmlNodePtr?) -> String {
        var value = ""
        var node = first
        while let current = node {
            if current.pointee.type == XML_TEXT_NODE, let content = current.pointee.content { value += string(content) }
            node = current.pointee.next
        }
        return value
    }

    private static func string(_ characters: UnsafePointer<xmlChar>) -> String {
        String(cString: characters)
    }

    private static func string(_ characters: UnsafeMutablePointer<xmlChar>) -> String {
        String(cString: characters)
    }
}
