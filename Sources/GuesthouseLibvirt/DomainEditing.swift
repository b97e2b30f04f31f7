import Foundation
import GuesthouseCore
import Libvirt

/// Changes of a domain's definition. Devices (disks, NICs, media) change through libvirt's own
/// atomic calls (attach, detach, update with `AFFECT_CONFIG`, plus `AFFECT_LIVE` on a running
/// guest), which libvirt applies under its domain lock, so concurrent changes from any number of
/// replicas all survive. Where a driver has no such call (the test driver) and where a change
/// has no call of its own (paravirtualization, a disk's new volume), the whole persistent
/// definition is rewritten, guarded (`redefine`).
extension LibvirtHypervisor {
    /// How often a guarded rewrite computes its change again after the definition changed under it.
    static let rewriteAttempts = 4

    /// The persistent definition as a tree (secure: passwords stay in it when redefined), parsed
    /// keeping its layout so that a rewrite changes nothing but the change.
    static func inactiveTree(_ domain: Domain) throws -> XMLTree {
        try XMLTree.parse(domain.xml(inactive: true, secure: true), preservingLayout: true)
    }

    /// Runs `body` holding this replica's lock of the domain: every change of a domain's
    /// definition (atomic calls and guarded rewrites alike) holds it, so inside a replica no change
    /// lands between a rewrite's last read and its define. The lock is per connection (a replica
    /// holds one per URI and credential, so two replicas in one process, as in the tests, do not
    /// share it); changes through other connections are what the rewrite's hash check is for.
    /// Reentrant on one thread.
    static func withDomainLock<T>(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain,
                                  _ body: () throws -> T) throws -> T {
        try locks.domains.withLock("\(conn.uri)#\(domain.uuid)", body)
    }

    /// Rewrites the domain's persistent definition with `transform` applied to it: serialised
    /// per domain inside this replica, and guarded against other replicas: the definition is read
    /// again just before the define, and when its hash is no longer that of the definition the
    /// change was computed from, the change is computed again from the new one (up to
    /// `rewriteAttempts` times) before the caller gets `operationNotAllowed` (409).
    /// Everything `transform` does not touch is written back as it was read.
    @discardableResult
    static func redefine(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain, _ transform: (XMLTree) throws -> XMLTree) throws -> Domain {
        try withDomainLock(locks, conn, domain) {
            for attempt in 0..<rewriteAttempts {
                let original = try domain.xml(inactive: true, secure: true)
                let changed = try transform(XMLTree.parse(original, preservingLayout: true)).rendered()
                let current = try domain.xml(inactive: true, secure: true)
                if definitionHash(current) == definitionHash(original) {
                    return try conn.defineDomain(xml: changed)
                }
                // Another replica changed the domain meanwhile: back off a little, then start over.
                Thread.sleep(forTimeInterval: Double.random(in: 0.005...0.02) * Double(attempt + 1))
            }
            throw GuesthouseError.conflict(
                "the definition of guest '\(domain.name)' kept changing while it was being rewritten; try again")
        }
    }

    /// A hash of a definition's text, to tell whether it changed between two reads.
    static func definitionHash(_ xml: String) -> Int {
        var hasher = Hasher()
        hasher.combine(xml)
        return hasher.finalize()
    }

    /// Applies a device change through libvirt's atomic call (`atomic`); on a stopped guest of a
    /// driver without that call (libvirt answers "not supported", e.g. the test driver) through a
    /// guarded rewrite of the definition with `rewrite` instead.
    static func changeDevices(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain, atomic: () throws -> Void,
                              rewrite: @escaping ([XMLTree]) throws -> [XMLTree]) throws {
        try withDomainLock(locks, conn, domain) {
            do {
                try atomic()
            } catch let error as LibvirtError where error.kind == .unsupported {
                guard try !domain.isActive() else { throw error }
                try redefine(locks, conn, domain) { tree in try editDevices(tree, rewrite) }
            }
        }
    }

    /// The `<devices>` element's children rewritten by `transform`.
    static func editDevices(_ tree: XMLTree, _ transform: ([XMLTree]) throws -> [XMLTree]) rethrows -> XMLTree {
        let devices = tree.child("devices") ?? XMLTree(name: "devices")
        return tree.replacingChild("devices", with: devices.with(children: try transform(devices.children)))
    }

    /// The storage volume behind a disk element's source, nil when it is not a volume.
    static func volume(_ conn: Connection, for disk: XMLTree) -> StorageVolume? {
        guard let source = disk.child("source") else { return nil }
        if let pool = source["pool"], let name = source["volume"] {
            return try? conn.storagePool(name: pool).volume(name: name)
        }
        if let path = source["file"] ?? source["dev"] {
            return try? conn.storageVolume(path: path)
        }
        return nil
    }

    /// Device names for a bus: "vd" for virtio, "hd" for ide, "xvd" for xen, else "sd".
    static func targetPrefix(bus: String) -> String {
        switch bus {
        case "virtio": "vd"
        case "ide": "hd"
        case "xen": "xvd"
        default: "sd"
        }
    }

    /// The first device name with `prefix` not in `used` (vda, vdb, ..., vdz, vdaa, ...).
    static func freeTarget(prefix: String, used: Set<String>) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        for index in 0..<(26 * 27) {
            let suffix = index < 26 ? String(letters[index])
                : String(letters[index / 26 - 1]) + String(letters[index % 26])
            if !used.contains(prefix + suffix) { return prefix + suffix }
        }
        return prefix + "zz"
    }

    /// Whether new disks of this domain type take a `<driver name='qemu'>`.
    var usesQemuDriver: Bool { domainType == "kvm" || domainType == "qemu" }
}
