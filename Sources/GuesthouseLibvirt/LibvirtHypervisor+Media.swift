import Foundation
import GuesthouseCore
import Libvirt

/// The CD-ROM drive: an ISO volume from any storage pool goes in, `nil` ejects it. A stopped guest
/// without a drive gets one (libvirt's attach); media change through libvirt's device update.
/// A config drive (vmango's `NAME_config.iso`, the guest's cloud-init data) is not that drive: media
/// go into another one, so the config drive stays and is still deleted with its machine.
extension LibvirtHypervisor: GuestMedia {
    public func mediaDevice(guestID: String) async throws -> String? {
        try await withConnection("media device info") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            return Self.mediaName(conn, Self.cdrom(in: try XMLTree.parse(domain.xml())))
        }
    }

    public func setMediaDevice(guestID: String, name: String?) async throws -> String? {
        if let name, name.isEmpty || name.contains("\0") { throw GuesthouseError.invalid("\"name\" must be an image name or null") }
        if let name, Self.isConfigDrive((name as NSString).lastPathComponent) {
            throw GuesthouseError.invalid("'\(name)' is a machine's config drive, not media")
        }
        return try await withConnection(name == nil ? "media eject" : "media mount") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            let path = try name.map { try Self.imagePath(conn, name: $0) }
            let source = path.map { XMLTree(name: "source", attributes: ["file": $0]) }
            if try domain.isActive() {
                guard let drive = Self.cdrom(in: try XMLTree.parse(domain.xml())) else {
                    if path == nil { return nil }
                    throw GuesthouseError.conflict("guest '\(domain.name)' has no CD-ROM drive; stop it to get one")
                }
                let changed = drive.setting("type", "file").replacingChild("source", with: source)
                try Self.withDomainLock(locks, conn, domain) { try Self.changeMedia(domain, changed.rendered()) }
            } else {
                // A stopped guest: the drive's media changes with libvirt's update (a new drive
                // is attached), both in the persistent definition only.
                let tree = try Self.inactiveTree(domain)
                let drive = Self.cdrom(in: tree)
                if drive == nil && path == nil { return nil }
                let newDrive = Self.newCDROM(tree).replacingChild("source", with: source)
                let atomic: () throws -> Void = {
                    if let drive {
                        try domain.updateDevice(drive.setting("type", "file").replacingChild("source", with: source).rendered())
                    } else {
                        try domain.attachDevice(newDrive.rendered())
                    }
                }
                try Self.changeDevices(locks, conn, domain, atomic: atomic) { devices in
                    var devices = devices
                    if let index = devices.firstIndex(where: Self.isMediaDrive) {
                        devices[index] = devices[index].setting("type", "file").replacingChild("source", with: source)
                    } else {
                        devices.append(newDrive)
                    }
                    return devices
                }
            }
            return Self.mediaName(conn, Self.cdrom(in: try XMLTree.parse(Self.lookup(conn, id: domain.uuid).xml())))
        }
    }

    public func mediaImages() async throws -> [String] {
        try await withConnection("media image list", readOnly: true) { conn in
            var names = Set<String>()
            for pool in try conn.allStoragePools() where (try? pool.info().running) == true {
                for volume in (try? pool.volumes()) ?? []
                where volume.name.lowercased().hasSuffix(".iso") && !Self.isConfigDrive(volume.name) {
                    names.insert(volume.name)
                }
            }
            return names.sorted()
        }
    }

    /// Changes a running guest's media. The tray is opened by force: a guest that locked it would
    /// otherwise keep it shut. Firmware probing the drive (SeaBIOS right after a start) can still
    /// close it between QEMU's steps ("Tray of device ... is not open"), so the change is tried
    /// again a few times before that is an error (a 502 the client may retry).
    static func changeMedia(_ domain: Domain, _ xml: String) throws {
        var attempt = 0
        while true {
            do {
                return try domain.updateDevice(xml, force: true)
            } catch let error as LibvirtError where error.message.contains("Tray") && attempt < 3 {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
            }
        }
    }

    static func isCDROM(_ element: XMLTree) -> Bool { element.name == "disk" && element["device"] == "cdrom" }

    /// A CD-ROM drive that is not a config drive.
    static func isMediaDrive(_ element: XMLTree) -> Bool {
        guard isCDROM(element) else { return false }
        let source = element.child("source")
        let name = source?["volume"] ?? (source?["file"]).map { ($0 as NSString).lastPathComponent } ?? ""
        return !isConfigDrive(name)
    }

    /// vmango's name for a machine's config drive (its user data and keys: never media for another).
    static func isConfigDrive(_ volumeName: String) -> Bool { volumeName.hasSuffix("_config.iso") }

    static func cdrom(in tree: XMLTree) -> XMLTree? { tree.child("devices")?.children.first(where: isMediaDrive) }

    /// A read-only CD-ROM drive on a bus the machine has: SATA on q35, IDE otherwise.
    static func newCDROM(_ tree: XMLTree) -> XMLTree {
        let machine = tree.child("os")?.child("type")?["machine"] ?? ""
        let bus = machine.contains("q35") ? "sata" : "ide"
        let used = Set(tree.child("devices")?.children("disk").compactMap { $0.child("target")?["dev"] } ?? [])
        let target = freeTarget(prefix: targetPrefix(bus: bus), used: used.union(bus == "ide" ? ["hda", "hdb"] : []))
        return XMLTree(name: "disk", attributes: ["type": "file", "device": "cdrom"], children: [
            XMLTree(name: "target", attributes: ["dev": target, "bus": bus]),
            XMLTree(name: "readonly"),
        ])
    }

    /// The volume name (or file name) of the mounted image, nil when the drive is empty.
    static func mediaName(_ conn: Connection, _ drive: XMLTree?) -> String? {
        guard let source = drive?.child("source") else { return nil }
        if let volume = source["volume"] { return volume }
        guard let path = source["file"] ?? source["dev"] else { return nil }
        return (try? conn.storageVolume(path: path).name) ?? (path as NSString).lastPathComponent
    }

    /// The path of the image volume `name` (a volume name in any pool, or a volume's path).
    static func imagePath(_ conn: Connection, name: String) throws -> String {
        if name.hasPrefix("/"), let volume = try? conn.storageVolume(path: name) { return try volume.path() }
        for pool in try conn.allStoragePools() where (try? pool.info().running) == true {
            if let volume = try? pool.volume(name: name) { return try volume.path() }
        }
        throw GuesthouseError.notFound("no storage pool holds an image named '\(name)'")
    }
}
