import Foundation
import GuesthouseCore
import Libvirt

extension LibvirtHypervisor: GuestDisks {
    public func disks(guestID: String) async throws -> [GuestDiskInfo] {
        try await withConnection("disk list") { conn in
            try Self.diskInfos(conn, Self.lookup(conn, id: guestID))
        }
    }

    public func disk(guestID: String, diskID: String) async throws -> GuestDiskInfo {
        try await withConnection("disk info") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            return try Self.find(diskID, in: Self.diskInfos(conn, domain), guest: domain.name)
        }
    }

    public func createDisk(guestID: String, _ spec: DiskSpec) async throws -> GuestDiskInfo {
        try Validation.range(spec.sizeGiB, Validation.diskGiB, field: "size")
        let format = spec.format ?? "qcow2"
        guard DiskSpec.formats.contains(format) else { throw GuesthouseError.invalid("\"format\" must be qcow2 or raw") }
        if let pool = spec.pool { try Validation.name(pool, field: "pool") }
        let qemuDriver = usesQemuDriver
        return try await withConnection("disk create") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            let disks = try XMLTree.parse(domain.xml(inactive: true)).child("devices")?.children("disk") ?? []
            let dataDisks = disks.filter { ($0["device"] ?? "disk") == "disk" }
            let pool: StoragePool
            if let name = spec.pool {
                pool = try Self.lookupPool(conn, id: name)
            } else if let first = dataDisks.first, let volume = Self.volume(conn, for: first),
                      let owner = try? conn.storagePool(name: volume.poolName()) {
                pool = owner
            } else {
                pool = try Self.defaultPool(conn)
            }
            let guestName = domain.name
            let bytes = UInt64(spec.sizeGiB) << 30
            try PoolRoom.check(pool, bytes: bytes, what: "the disk")
            let volume = try Self.claimVolume(pool, first: dataDisks.count,
                                              name: { "\(guestName)-disk\($0).\(format)" },
                                              xml: { VolumeXML.render(name: $0, capacityBytes: bytes,
                                                                      format: format) })
            let target: String
            do {
                let path = try volume.path()
                let bus = dataDisks.first?.child("target")?["bus"] ?? "virtio"
                let driver = qemuDriver ? "<driver name='qemu' type='\(format)'/>" : ""
                target = try Self.attachDisk(locks, conn, domain, prefix: Self.targetPrefix(bus: bus)) { target in
                    "<disk type='file' device='disk'>\(driver)<source file='\(xmlEscape(path))'/>"
                        + "<target dev='\(target)' bus='\(xmlEscape(bus))'/></disk>"
                }
            } catch {
                try? volume.delete()
                throw error
            }
            let fresh = try Self.lookup(conn, id: domain.uuid)
            return try Self.find(target, in: Self.diskInfos(conn, fresh), guest: guestName)
        }
    }

    /// Creates a volume under the first free name of `name(first)`, `name(first + 1)`, ...:
    /// libvirt's create is the claim (it refuses a name that exists), so two creates at once, from
    /// any replicas, never share a volume; the one that loses takes the next name.
    static func claimVolume(_ pool: StoragePool, first: Int, name: (Int) -> String,
                            xml: (String) -> String) throws -> StorageVolume {
        let existing = Set(((try? pool.volumes()) ?? []).map(\.name))
        var n = first
        var claims = 0
        while claims < 64 {
            let candidate = name(n)
            n += 1
            if existing.contains(candidate) { continue }
            claims += 1
            do {
                return try pool.createVolume(xml: xml(candidate))
            } catch let error as LibvirtError where error.isAlreadyExists {
                continue
            }
        }
        throw GuesthouseError.conflict("storage '\(pool.name)' has no free name for a new volume like '\(name(first))'")
    }

    /// Attaches a new disk (`element(target)`) on the first free device name with `prefix`, through
    /// libvirt's attach (a guarded rewrite where the driver has none). A device name another
    /// replica took meanwhile is a conflict libvirt reports; the next free one is tried then.
    /// Returns the device name the disk got.
    static func attachDisk(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain, prefix: String,
                           _ element: @escaping (String) -> String) throws -> String {
        struct TargetTaken: Error {}
        for attempt in 0..<rewriteAttempts {
            var used = Set((try XMLTree.parse(domain.xml(inactive: true)).child("devices")?.children("disk") ?? [])
                .compactMap { $0.child("target")?["dev"] })
            if try domain.isActive() {
                used.formUnion((try XMLTree.parse(domain.xml()).child("devices")?.children("disk") ?? [])
                    .compactMap { $0.child("target")?["dev"] })
            }
            let target = freeTarget(prefix: prefix, used: used)
            let xml = element(target)
            do {
                try changeDevices(locks, conn, domain, atomic: { try domain.attachDevice(xml) }, rewrite: { devices in
                    if devices.contains(where: { $0.name == "disk" && $0.child("target")?["dev"] == target }) {
                        throw TargetTaken()
                    }
                    return devices + [try XMLTree.parse(xml)]
                })
                return target
            } catch is TargetTaken where attempt + 1 < rewriteAttempts {
                continue
            } catch let error as LibvirtError where attempt + 1 < rewriteAttempts
                        && (error.kind == .conflict || error.message.contains("already exists")) {
                continue  // "target vdb already exists": another request attached one meanwhile
            }
        }
        throw GuesthouseError.conflict("guest '\(domain.name)' kept getting new disks while one was being added; try again")
    }

    public func updateDisk(guestID: String, diskID: String, sizeGiB: Int?, name: String?) async throws -> GuestDiskInfo {
        if let sizeGiB { try Validation.range(sizeGiB, Validation.diskGiB, field: "size") }
        if let name { try Validation.name(name) }
        return try await withConnection("disk update") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            let info = try Self.find(diskID, in: Self.diskInfos(conn, domain), guest: domain.name)
            if let sizeGiB { try Self.resize(conn, domain, target: info.id, bytes: UInt64(sizeGiB) << 30) }
            if let name, name != info.name { try Self.renameVolume(locks, conn, domain, target: info.id, to: name) }
            return try Self.find(info.id, in: Self.diskInfos(conn, Self.lookup(conn, id: domain.uuid)), guest: domain.name)
        }
    }

    public func deleteDisk(guestID: String, diskID: String) async throws {
        try await withConnection("disk delete") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            let info = try Self.find(diskID, in: Self.diskInfos(conn, domain), guest: domain.name)
            let element = try Self.diskElement(domain, target: info.id)
            let volume = Self.volume(conn, for: element)
            try Self.changeDevices(locks, conn, domain, atomic: { try domain.detachDevice(element.rendered()) }) { devices in
                devices.filter { !($0.name == "disk" && $0.child("target")?["dev"] == info.id) }
            }
            try volume?.delete()
        }
    }

    /// Grows the volume behind the disk `target` to `bytes`: through the running domain when it
    /// runs, else on the volume. Shrinking is `operationNotAllowed` (409): the request is well formed,
    /// the disk's present size refuses it.
    static func resize(_ conn: Connection, _ domain: Domain, target: String, bytes: UInt64) throws {
        let element = try diskElement(domain, target: target)
        guard let volume = volume(conn, for: element) else {
            throw GuesthouseError.conflict("disk \(target) of guest '\(domain.name)' is not a storage volume; it cannot be resized")
        }
        let capacity = try volume.info().capacity
        if bytes < capacity {
            throw GuesthouseError.conflict("disk \(target) is \(capacity >> 30) GiB; shrinking a disk is not supported")
        }
        guard bytes > capacity else { return }
        if try domain.isActive() {
            try domain.blockResize(target: target, bytes: bytes)
        } else {
            try volume.resize(to: bytes)
        }
    }

    /// Renames the volume behind a disk of a stopped guest: copies it under the new name, points
    /// the disk at the copy and deletes the original.
    static func renameVolume(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain, target: String, to name: String) throws {
        if try domain.isActive() {
            throw GuesthouseError.conflict("a disk of a running guest cannot be renamed; stop '\(domain.name)' first")
        }
        let element = try diskElement(domain, target: target)
        guard let old = volume(conn, for: element) else {
            throw GuesthouseError.conflict("disk \(target) of guest '\(domain.name)' is not a storage volume; it cannot be renamed")
        }
        let pool = try conn.storagePool(name: old.poolName())
        if (try? pool.volume(name: name)) != nil {
            throw GuesthouseError.conflict("storage '\(pool.name)' already has a volume named '\(name)'")
        }
        let format = (try? XMLTree.parse(old.xml()).path("target", "format")?["type"]) ?? nil
        let copy = try pool.createVolume(xml: VolumeXML.render(name: name, capacityBytes: old.info().capacity,
                                                               format: format ?? "raw"), from: old)
        do {
            let path = try copy.path()
            try redefine(locks, conn, domain) { tree in
                editDevices(tree) { devices in
                    devices.map { device in
                        guard device.name == "disk", device.child("target")?["dev"] == target else { return device }
                        return device.setting("type", "file")
                            .replacingChild("source", with: XMLTree(name: "source", attributes: ["file": path]))
                    }
                }
            }
        } catch {
            try? copy.delete()
            throw error
        }
        try old.delete()
    }

    /// The `<disk>` element with this target in the domain's current XML.
    static func diskElement(_ domain: Domain, target: String) throws -> XMLTree {
        let tree = try XMLTree.parse(domain.xml())
        guard let element = tree.child("devices")?.children("disk").first(where: { $0.child("target")?["dev"] == target })
        else { throw GuesthouseError.notFound("guest '\(domain.name)' has no disk '\(target)'") }
        return element
    }

    static func diskInfos(_ conn: Connection, _ domain: Domain) throws -> [GuestDiskInfo] {
        let tree = try XMLTree.parse(domain.xml())
        let disks = (tree.child("devices")?.children("disk") ?? []).filter { ($0["device"] ?? "disk") == "disk" }
        return disks.enumerated().map { index, element in
            let source = element.child("source")
            let volume = volume(conn, for: element)
            let path = (try? volume?.path()) ?? source?["file"] ?? source?["dev"]
            let name = source?["volume"] ?? volume?.name ?? path.map { ($0 as NSString).lastPathComponent } ?? ""
            return GuestDiskInfo(id: element.child("target")?["dev"] ?? "\(index)", name: name, number: index,
                                 capacityBytes: try? volume?.info().capacity, path: path,
                                 pool: source?["pool"] ?? (try? volume?.poolName()),
                                 bus: element.child("target")?["bus"] ?? "", format: element.child("driver")?["type"])
        }
    }

    /// The disk a path names: its target ("vda"), its volume name, or its number.
    static func find(_ id: String, in disks: [GuestDiskInfo], guest: String) throws -> GuestDiskInfo {
        if let disk = disks.first(where: { $0.id == id }) ?? disks.first(where: { $0.name == id })
            ?? disks.first(where: { String($0.number) == id }) {
            return disk
        }
        throw GuesthouseError.notFound("guest '\(guest)' has no disk '\(id)'")
    }
}
