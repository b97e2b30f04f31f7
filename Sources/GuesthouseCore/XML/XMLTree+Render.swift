/// Writing trees back out, and changing them, for definitions Guesthouse edits (devices to detach
/// or update, domains to redefine). What a change does not touch is written back as it was read:
/// attributes in their order (new ones after, sorted), text untrimmed, and, for trees from
/// `parse(_:preservingLayout: true)`, the text between child elements (hand-written metadata and
/// descriptions survive a rewrite unchanged).
extension XMLTree {
    /// The element as XML text.
    public func rendered() -> String {
        var out = ""
        render(into: &out)
        return out
    }

    private func render(into out: inout String) {
        out += "<" + name
        var written = Set<String>()
        for key in attributeOrder where written.insert(key).inserted {
            if let value = attributes[key] { out += " \(key)='\(xmlEscape(value))'" }
        }
        for key in attributes.keys.sorted() where !written.contains(key) {
            out += " \(key)='\(xmlEscape(attributes[key] ?? ""))'"
        }
        if children.isEmpty {
            if text.isEmpty { out += "/>"; return }
            out += ">" + xmlEscape(text) + "</" + name + ">"
            return
        }
        out += ">"
        for (index, child) in children.enumerated() {
            if let runs = textRuns { out += xmlEscape(runs[index]) }
            child.render(into: &out)
        }
        if let runs = textRuns { out += xmlEscape(runs[children.count]) }
        out += "</" + name + ">"
    }

    /// A copy with other attributes.
    public func with(attributes: [String: String]) -> XMLTree {
        XMLTree(name: name, attributes: attributes, children: children, text: text, attributeOrder: attributeOrder,
                textRuns: textRuns)
    }

    /// A copy with one attribute set (nil removes it).
    public func setting(_ attribute: String, _ value: String?) -> XMLTree {
        var a = attributes
        a[attribute] = value
        return with(attributes: a)
    }

    /// A copy with other children. The text around them is kept while their number is the same
    /// (children replaced in place); otherwise it goes (libvirt ignores it outside `<metadata>`).
    public func with(children: [XMLTree]) -> XMLTree {
        let runs = textRuns.flatMap { $0.count == children.count + 1 ? $0 : nil }
        return XMLTree(name: name, attributes: attributes, children: children,
                       text: children.isEmpty ? (runs?.joined() ?? text) : (runs?.joined() ?? ""),
                       attributeOrder: attributeOrder, textRuns: runs)
    }

    /// A copy with the text replaced (and no children).
    public func with(text: String) -> XMLTree {
        XMLTree(name: name, attributes: attributes, children: [], text: text, attributeOrder: attributeOrder)
    }

    /// A copy where the first child named `name` is replaced by `replacement` (appended when
    /// missing; removed when `replacement` is nil).
    public func replacingChild(_ name: String, with replacement: XMLTree?) -> XMLTree {
        var kids = children
        if let index = kids.firstIndex(where: { $0.name == name }) {
            if let replacement { kids[index] = replacement } else { kids.remove(at: index) }
        } else if let replacement {
            kids.append(replacement)
        }
        return with(children: kids)
    }

    /// A copy with every descendant element rewritten by `transform` (depth first, children
    /// before parents); returning nil drops the element.
    public func mapElements(_ transform: (XMLTree) -> XMLTree?) -> XMLTree {
        let kids = children.compactMap { child -> XMLTree? in transform(child.mapElements(transform)) }
        return with(children: kids)
    }
}
