import GuesthouseCore
import Libvirt

/// Tags live in the domain's metadata, `<gh:tags xmlns:gh="http://guesthouse.dev/schema/1"><tag>..</tag></gh:tags>`,
/// so every server on the same libvirt reads the same list.
extension LibvirtHypervisor: GuestTags {
    static let tagsNamespace = "http://guesthouse.dev/schema/1"

    public func tags(guestID: String) async throws -> [String] {
        try await withConnection("tag list") { conn in
            try Self.readTags(Self.lookup(conn, id: guestID))
        }
    }

    public func addTag(guestID: String, _ tag: String) async throws -> [String] {
        try Self.validateTag(tag)
        return try await modifyTags("tag create", guestID: guestID) { tags in
            if !tags.contains(tag) { tags.append(tag) }
        }
    }

    public func removeTag(guestID: String, _ tag: String) async throws -> [String] {
        try await modifyTags("tag delete", guestID: guestID) { tags in
            guard let index = tags.firstIndex(of: tag) else {
                throw GuesthouseError.notFound("guest '\(guestID)' has no tag '\(tag)'")
            }
            tags.remove(at: index)
        }
    }

    private func modifyTags(_ operation: String, guestID: String,
                            _ change: @escaping @Sendable (inout [String]) throws -> Void) async throws -> [String] {
        let uri = self.uri
        return try await withConnection(operation) { conn in
            let domain = try Self.lookup(conn, id: guestID)
            return try locks.domains.withLock(uri + "#" + domain.uuid) {
                var tags = try Self.readTags(domain)
                try change(&tags)
                let xml = "<tags>" + tags.map { "<tag>\(xmlEscape($0))</tag>" }.joined() + "</tags>"
                try domain.setMetadata(xml, key: "gh", namespace: Self.tagsNamespace)
                return try Self.readTags(domain)
            }
        }
    }

    static func readTags(_ domain: Domain) throws -> [String] {
        guard let xml = try domain.metadata(namespace: tagsNamespace) else { return [] }
        return try XMLTree.parse(xml).children.filter { $0.name.hasSuffix("tag") }.map(\.text)
    }

    static func validateTag(_ tag: String) throws {
        guard !tag.isEmpty, tag.count <= 255 else { throw GuesthouseError.invalid("\"name\" must be 1 to 255 characters") }
        guard !tag.contains("/"), tag.unicodeScalars.allSatisfy({ $0.value >= 0x20 }) else {
            throw GuesthouseError.invalid("a tag may not hold '/' or control characters")
        }
    }
}
