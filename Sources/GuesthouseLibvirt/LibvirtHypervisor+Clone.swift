import Foundation
import GuesthouseCore
import Libvirt

/// Clones: a new guest with the definition of a stopped one and its own copies of its disks (in
/// the same pools); CD images are shared, MACs and the UUID are new. Nothing is left behind when
/// a step fails.
extension LibvirtHypervisor: GuestCloning {
    public func cloneGuest(guestID: String, name: String) async throws -> Guest {
        try Validation.name(name)
        return try await withConnection("guest clone") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            if (try? conn.domain(name: name)) != nil {
                throw GuesthouseError.conflict("a guest named '\(name)' already exists")
            }
            if try domain.isActive() {
                throw GuesthouseError.conflict("guest '\(domain.name)' is running; stop it to clone it")
            }
            let tree = try Self.inactiveTree(domain)
            var created: [StorageVolume] = []
            do {
                var copies: [String: String] = [:]  // target -> new path
                let disks = (tree.child("devices")?.children("disk") ?? []).filter { ($0["device"] ?? "disk") == "disk" }
                for (index, disk) in disks.enumerated() {
                    guard let target = disk.child("target")?["dev"] else { continue }
                    guard let source = Self.volume(conn, for: disk) else {
                        if disk.child("source") == nil { continue }
                        throw GuesthouseError.conflict("disk \(target) is not a storage volume; it cannot be copied")
                    }
                    let pool = try conn.storagePool(name: source.poolName())
                    let format = (try? XMLTree.parse(source.xml()).path("target", "format")?["type"]) ?? nil
                    let ext = (source.name as NSString).pathExtension
                    var volumeName = "\(name)-disk\(index)" + (ext.isEmpty ? "" : ".\(ext)")
                    if (try? pool.volume(name: volumeName)) != nil { volumeName = "\(name)-\(UUID().uuidString.prefix(8))-disk\(index)" }
                    let copy = try pool.createVolume(xml: VolumeXML.render(name: volumeName,
                                                                           capacityBytes: source.info().capacity,
                                                                           format: format ?? "raw"), from: source)
                    created.append(copy)
                    copies[target] = try copy.path()
                }
                let cloned = Self.cloneDefinition(tree, name: name, copies: copies)
                let defined = try conn.defineDomain(xml: cloned.rendered())
                return try GuestReader(conn: conn).guest(defined)
            } catch {
                for volume in created { try? volume.delete() }
                throw error
            }
        }
    }

    /// The definition with a new name, no UUID, no MACs, and disks pointing at their copies.
    static func cloneDefinition(_ tree: XMLTree, name: String, copies: [String: String]) -> XMLTree {
        let kids = tree.children.compactMap { child -> XMLTree? in
            switch child.name {
            case "name": return child.with(text: name)
            case "uuid": return nil
            case "devices":
                return child.with(children: child.children.map { device in
                    if device.name == "interface" { return device.replacingChild("mac", with: nil) }
                    if device.name == "disk", let target = device.child("target")?["dev"], let path = copies[target] {
                        return device.setting("type", "file")
                            .replacingChild("source", with: XMLTree(name: "source", attributes: ["file": path]))
                    }
                    if device.name == "graphics", device["autoport"] == "no" || device["port"] != nil {
                        return device.setting("port", nil).setting("autoport", "yes")
                    }
                    return device
                })
            default: return child
            }
        }
        return tree.with(children: kids)
    }
}
