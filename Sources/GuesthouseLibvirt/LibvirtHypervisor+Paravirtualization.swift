import GuesthouseCore
import Libvirt

/// Guest updates beyond name, memory and cpus: `hdd` grows the last disk; `paravirtualized`
/// switches disks to virtio (or SATA) and NICs to virtio (or e1000) in the persistent definition.
extension LibvirtHypervisor {
    static func resizeLastDisk(_ conn: Connection, _ domain: Domain, gib: Int) throws {
        let tree = try XMLTree.parse(domain.xml())
        let disks = (tree.child("devices")?.children("disk") ?? []).filter { ($0["device"] ?? "disk") == "disk" }
        guard let target = disks.last?.child("target")?["dev"] else {
            throw GuesthouseError.invalid("guest '\(domain.name)' has no disk to resize")
        }
        try resize(conn, domain, target: target, bytes: UInt64(gib) << 30)
    }

    /// Rewrites buses and models. Only on a stopped guest (a running one answers
    /// `operationNotAllowed`): changing a disk's bus renames its device and its PCI address.
    static func setParavirtualized(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain, _ on: Bool) throws {
        let current = try DomainDefinition(xml: domain.xml(inactive: true))
        if current.isParavirtualized == on { return }
        if try domain.isActive() {
            throw GuesthouseError.conflict("guest '\(domain.name)' is running; stop it to change paravirtualized")
        }
        try redefine(locks, conn, domain) { tree in paravirtualize(tree, on) }
    }

    static func paravirtualize(_ tree: XMLTree, _ on: Bool) -> XMLTree {
        let bus = on ? "virtio" : "sata"
        let devices = tree.child("devices")?.children ?? []
        let isDataDisk = { (d: XMLTree) in d.name == "disk" && (d["device"] ?? "disk") == "disk" }
        // Targets other disks (CD-ROMs) keep, so the new names avoid them.
        var used = Set(devices.filter { $0.name == "disk" && !isDataDisk($0) }.compactMap { $0.child("target")?["dev"] })
        let rewritten = devices.map { device -> XMLTree in
            if isDataDisk(device) {
                let target = freeTarget(prefix: targetPrefix(bus: bus), used: used)
                used.insert(target)
                return device.replacingChild("address", with: nil)
                    .replacingChild("target", with: XMLTree(name: "target", attributes: ["dev": target, "bus": bus]))
            }
            if device.name == "interface" {
                return device.replacingChild("address", with: nil)
                    .replacingChild("model", with: XMLTree(name: "model", attributes: ["type": on ? "virtio" : "e1000"]))
            }
            return device
        }
        return tree.replacingChild("devices", with: (tree.child("devices") ?? XMLTree(name: "devices")).with(children: rewritten))
    }
}
