import GuesthouseCore
import Libvirt

/// Tags live in the domain's metadata, one element per tag, each under a namespace of its own:
/// `<ghtag:tag xmlns:ghtag="http://guesthouse.dev/schema/1/tag/NAME">NAME</ghtag:tag>` (NAME
/// percent-encoded in the URI). Adding or removing a tag is one `virDomainSetMetadata` call with
/// that key, atomic in libvirt, so concurrent changes through any number of servers all survive,
/// and every server on the same libvirt reads the same list.
///
/// Older Guesthouse versions kept the whole list in one element,
/// `<gh:tags xmlns:gh="http://guesthouse.dev/schema/1"><tag>..</tag></gh:tags>`. Those tags are
/// read as well (listed first), and the first change of a guest's tags moves them into elements
/// of their own and drops the old element (migration on write; reading never writes).
extension LibvirtHypervisor: GuestTags {
    /// The namespace of the old single-element list.
    static let tagsNamespace = "http://guesthouse.dev/schema/1"
    /// The base of every tag's own namespace.
    static let tagNamespaceBase = "http://guesthouse.dev/schema/1/tag"

    public func tags(guestID: String) async throws -> [String] {
        try await withConnection("tag list", readOnly: true) { conn in
            try Self.readTags(Self.lookup(conn, id: guestID))
        }
    }

    public func addTag(guestID: String, _ tag: String) async throws -> [String] {
        try Self.validateTag(tag)
        return try await withConnection("tag create") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            try Self.migrateTags(locks, conn, domain)
            // Setting a tag that is there already would move it to the end of the list.
            if try !Self.readTags(domain).contains(tag) {
                try DomainMetadataItems.set(locks, conn, domain, "<tag>\(xmlEscape(tag))</tag>", key: "ghtag",
                                            uri: DomainMetadataItems.uri(base: Self.tagNamespaceBase, item: tag))
            }
            return try Self.readTags(domain)
        }
    }

    public func removeTag(guestID: String, _ tag: String) async throws -> [String] {
        try await withConnection("tag delete") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            try Self.migrateTags(locks, conn, domain)
            guard try Self.readTags(domain).contains(tag) else {
                throw GuesthouseError.notFound("guest '\(guestID)' has no tag '\(tag)'")
            }
            try DomainMetadataItems.set(locks, conn, domain, nil, key: "ghtag",
                                        uri: DomainMetadataItems.uri(base: Self.tagNamespaceBase, item: tag))
            return try Self.readTags(domain)
        }
    }

    /// Every tag: those of the old single element first, then one per tag element.
    static func readTags(_ domain: Domain) throws -> [String] {
        let definition = try XMLTree.parse(domain.xml(inactive: true))
        var tags = legacyTags(definition)
        for item in DomainMetadataItems.items(in: definition, under: tagNamespaceBase) where !tags.contains(item.element.text) {
            tags.append(item.element.text)
        }
        return tags
    }

    /// The tags of the old single-element list, empty when there is none.
    static func legacyTags(_ definition: XMLTree) -> [String] {
        let list = definition.child("metadata")?.children.first { element in
            element.attributes.contains { $0.key.hasPrefix("xmlns") && $0.value == tagsNamespace }
        }
        return list?.children.filter { $0.name.hasSuffix("tag") }.map(\.text) ?? []
    }

    /// Moves the tags of an old single-element list into elements of their own, then drops the
    /// list. Each step is idempotent, so replicas migrating at once end in the same state.
    static func migrateTags(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain) throws {
        let definition = try XMLTree.parse(domain.xml(inactive: true))
        let legacy = legacyTags(definition)
        guard definition.child("metadata")?.children.contains(where: { element in
            element.attributes.contains { $0.key.hasPrefix("xmlns") && $0.value == tagsNamespace }
        }) == true else { return }
        try withDomainLock(locks, conn, domain) {
            let present = Set(DomainMetadataItems.items(in: definition, under: tagNamespaceBase).map(\.element.text))
            for tag in legacy where !present.contains(tag) {
                try DomainMetadataItems.set(locks, conn, domain, "<tag>\(xmlEscape(tag))</tag>", key: "ghtag",
                                            uri: DomainMetadataItems.uri(base: tagNamespaceBase, item: tag))
            }
            try DomainMetadataItems.set(locks, conn, domain, nil, key: "gh", uri: tagsNamespace)
        }
    }

    static func validateTag(_ tag: String) throws {
        guard Validation.tagLength.contains(tag.unicodeScalars.count) else {
            throw GuesthouseError.invalid("\"name\" must be \(Validation.tagLength.lowerBound) to \(Validation.tagLength.upperBound) characters")
        }
        guard !tag.contains("/"), tag.unicodeScalars.allSatisfy({ $0.value >= 0x20 }) else {
            throw GuesthouseError.invalid("a tag may not hold '/' or control characters")
        }
    }
}
