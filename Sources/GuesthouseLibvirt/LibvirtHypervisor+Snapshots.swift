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
            // libvirt would name it by the second, so two in one second would collide: pick a free name.
            let chosen = name ?? Self.freeSnapshotName(domain)
            let xml = "<domainsnapshot><name>\(xmlEscape(chosen))</name></domainsnapshot>"
            do {
                return try Self.snapshotValue(domain.createSnapshot(xml: xml))
            } catch let error as LibvirtError where error.message.contains("already exists") {
                throw GuesthouseError.conflict("guest '\(domain.name)' already has a snapshot named '\(chosen)'")
            }
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

    /// The current second since 1970, as libvirt names snapshots, with `-2`, `-3`, ... while taken.
    static func freeSnapshotName(_ domain: Domain) -> String {
        let base = String(Int(Date().timeIntervalSince1970))
        var candidate = base
        var suffix = 1
        while (try? domain.snapshot(name: candidate)) != nil {
            suffix += 1
            candidate = "\(base)-\(suffix)"
        }
        return candidate
    }
}
