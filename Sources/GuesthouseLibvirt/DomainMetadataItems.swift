import Foundation
import GuesthouseCore
import Libvirt

/// Lists Guesthouse keeps in a domain's `<metadata>` (tags, exact NIC rates), one element per
/// item, each under a namespace URI of its own (`base/item`). libvirt's per-key
/// `virDomainSetMetadata` then adds, replaces or removes one item in one call under its domain
/// lock: changes to different items, from any number of replicas, never lose each other.
enum DomainMetadataItems {
    /// One stored item: its namespace URI and its element.
    struct Item {
        var uri: String
        var element: XMLTree
    }

    /// The persistent definition's metadata items whose namespace URI starts with `base + "/"`,
    /// in the order libvirt keeps them (oldest first).
    static func items(_ domain: Domain, under base: String) throws -> [Item] {
        items(in: try XMLTree.parse(domain.xml(inactive: true)), under: base)
    }

    /// The metadata items of a parsed definition whose namespace URI starts with `base + "/"`.
    static func items(in definition: XMLTree, under base: String) -> [Item] {
        let prefix = base + "/"
        return (definition.child("metadata")?.children ?? []).compactMap { element in
            let uri = element.attributes.first { $0.key.hasPrefix("xmlns") && $0.value.hasPrefix(prefix) }?.value
            return uri.map { Item(uri: $0, element: element) }
        }
    }

    /// The namespace URI of `item` under `base`: the item percent-encoded as one path segment.
    static func uri(base: String, item: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return base + "/" + (item.addingPercentEncoding(withAllowedCharacters: allowed) ?? item)
    }

    /// Stores `xml` as the item under `uri` (prefix `key`) in the persistent definition, and in
    /// the live one when the domain runs; nil removes the item. One libvirt call, made holding the
    /// domain's lock (see `LibvirtHypervisor.withDomainLock`).
    static func set(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain, _ xml: String?, key: String, uri: String) throws {
        try LibvirtHypervisor.withDomainLock(locks, conn, domain) {
            try domain.setMetadata(xml, key: key, namespace: uri)
        }
    }
}
