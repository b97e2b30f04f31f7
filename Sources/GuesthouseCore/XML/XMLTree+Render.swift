/// Writing trees back out, and changing them, for definitions Guesthouse edits (devices to detach
/// or update, domains to redefine). Attribute order is not kept (libvirt does not care); an
/// element's own text is kept only when it has no children (libvirt has no mixed content).
extension XMLTree {
    /// The element as XML text.
    public func rendered() -> String {
        var out = ""
        render(into: &out)
        return out
    }

    private func render(into out: inout String) {
        out += "<" + name
        for key in attributes.keys.sorted() {
            out += " \(key)='\(xmlEscape(attributes[key] ?? ""))'"
        }
        if children.isEmpty {
            let content = trimmedText
            if content.isEmpty { out += "/>"; return }
            out += ">" + xmlEscape(content) + "</" + name + ">"
            return
        }
        out += ">"
        for child in children { child.render(into: &out) }
        out += "</" + name + ">"
    }

    /// A copy with other attributes.
    public func with(attributes: [String: String]) -> XMLTree {
        XMLTree(name: name, attributes: attributes, children: children, text: text)
    }

    /// A copy with one attribute set (nil removes it).
    public func setting(_ attribute: String, _ value: String?) -> XMLTree {
        var a = attributes
        a[attribute] = value
        return with(attributes: a)
    }

    /// A copy with other children.
    public func with(children: [XMLTree]) -> XMLTree {
        XMLTree(name: name, attributes: attributes, children: children, text: children.isEmpty ? text : "")
    }

    /// A copy with the text replaced (and no children).
    public func with(text: String) -> XMLTree {
        XMLTree(name: name, attributes: attributes, children: [], text: text)
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
