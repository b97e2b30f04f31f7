import Foundation
import GuesthouseCore
import Libvirt

/// Changes of a domain's definition: on a stopped guest by redefining its persistent XML (which
/// every driver can do), on a running one through libvirt's device calls (live and persistent).
extension LibvirtHypervisor {
    /// The persistent definition as a tree (secure: passwords stay in it when redefined).
    static func inactiveTree(_ domain: Domain) throws -> XMLTree {
        try XMLTree.parse(domain.xml(inactive: true, secure: true))
    }

    /// Redefines the domain's persistent definition with `transform` applied to its XML.
    @discardableResult
    static func redefine(_ conn: Connection, _ domain: Domain, _ transform: (XMLTree) throws -> XMLTree) throws -> Domain {
        let tree = try transform(inactiveTree(domain))
        return try conn.defineDomain(xml: tree.rendered())
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
