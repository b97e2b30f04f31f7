import Foundation
import GuesthouseCore
import Libvirt

extension LibvirtHypervisor: GuestSnapshots {
    public func snapshots(guestID: String) async throws -> [GuestSnapshot] {
        try await withConnection("snapshot list") { conn in
            try Self.lookup(conn, id: guestID).snapshots().map(Self.snapshotValue).sorted {
                ($0.created ?? .distantPast, $0.name) < ($1.created ?? .distantPast, $1.name)
            }
        }
    }

    public func snapshot(guestID: String, name: String) async throws -> GuestSnapshot {
        try await withConnection("snapshot info") { conn in
            try Self.snapshotValue(Self.lookupSnapshot(Self.lookup(conn, id: guestID), name: name))
        }
    }

    public func createSnapshot(guestID: String, name: String?) async throws -> GuestSnapshot {
        if let name { try Validation.name(name) }
        return try await withConnection("snapshot create") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            if let name, (try? domain.snapshot(name: name)) != nil {
                throw GuesthouseError.conflict("guest '\(domain.name)' already has a snapshot named '\(name)'")
            }
            let xml = "<domainsnapshot>" + (name.map { "<name>\(xmlEscape($0))</name>" } ?? "") + "</domainsnapshot>"
            return try Self.snapshotValue(domain.createSnapshot(xml: xml))
        }
    }

    public func revertSnapshot(guestID: String, name: String) async throws {
        try await withConnection("snapshot revert") { conn in
            try Self.lookupSnapshot(Self.lookup(conn, id: guestID), name: name).revert()
        }
    }

    public func deleteSnapshot(guestID: String, name: String) async throws {
        try await withConnection("snapshot delete") { conn in
            try Self.lookupSnapshot(Self.lookup(conn, id: guestID), name: name).delete()
        }
    }

    static func lookupSnapshot(_ domain: Domain, name: String) throws -> DomainSnapshot {
        do {
            return try domain.snapshot(name: name)
        } catch let error as LibvirtError where error.kind == .notFound || error.kind == .invalidArgument {
            throw GuesthouseError.notFound("guest '\(domain.name)' has no snapshot '\(name)'")
        }
    }

    static func snapshotValue(_ snapshot: DomainSnapshot) throws -> GuestSnapshot {
        let tree = try XMLTree.parse(snapshot.xml())
        let created = tree.child("creationTime").flatMap { TimeInterval($0.trimmedText) }.map(Date.init(timeIntervalSince1970:))
        let external = tree.child("disks")?.children("disk").first { $0["snapshot"] == "external" }
        return GuestSnapshot(name: tree.child("name")?.trimmedText ?? snapshot.name,
                             state: tree.child("state")?.trimmedText ?? "unknown", created: created,
                             path: external?.child("source")?["file"] ?? tree.child("memory")?["file"])
    }
}
