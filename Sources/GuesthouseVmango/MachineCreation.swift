import Foundation
import GuesthouseCore
import GuesthouseLibvirt
import Libvirt
import Logging

extension LibvirtMachineProvider {
    /// Creates and starts a machine: root volume (a copy-on-write layer over the image where the
    /// pool allows it), a fixed address from the network's DHCP range, a config drive, the domain,
    /// start. Each step registers its undo; when a later one fails, the undos run in reverse and the
    /// error is thrown: nothing is left behind.
    public func create(_ request: MachineRequest) async throws -> Machine {
        try Validation.name(request.name, field: "Name")
        let uuid = UUID().uuidString.lowercased()
        let drive = uploadsVolumes
            ? ConfigDrive(hostname: request.name, uuid: uuid, publicKeys: request.sshKeys, userdata: request.userdata)
            : nil
        // All of it on the libvirt executor: the ISO tool and libvirt's calls block.
        return try await hypervisor.withConnection("machine create") { conn in
            var undo = UndoStack(logger: logger, machine: request.name)
            do {
                let machine = try build(conn, request, uuid: uuid, configDrive: drive, undo: &undo)
                return machine
            } catch {
                undo.run()
                throw error
            }
        }
    }

    private func build(_ conn: Connection, _ request: MachineRequest, uuid: String, configDrive: ConfigDrive?,
                       undo: inout UndoStack) throws -> Machine {
        if (try? conn.domain(name: request.name)) != nil {
            throw GuesthouseError.conflict("machine \"\(request.name)\" already exists")
        }
        let image = try imageVolume(conn, request.image)
        let imageFormat = try MachineImage.Name(parsing: request.image).format
        let pool = try conn.storagePool(name: rootPool)
        try PoolRoom.check(pool, bytes: request.plan.diskBytes, what: "plan \"\(request.plan.name)\"")
        if (try? pool.volume(name: MachineVolumeNames.rootVolume(request.name))) != nil {
            throw GuesthouseError.conflict("volume \"\(MachineVolumeNames.rootVolume(request.name))\" already exists in pool \"\(rootPool)\"")
        }
        var context = try templateContext(request, uuid: uuid, image: image, imageFormat: imageFormat)

        // 1. The root volume.
        let root = try createRootVolume(conn, pool: pool, image: image, imageFormat: imageFormat,
                                        request: request, context: &context)
        undo.push("delete root volume") { try root.delete() }
        context["VolumePath"] = try root.path()

        // 2. A fixed address: a static DHCP entry for a fresh MAC.
        let mac = context["HWAddr"] as? String ?? ""
        if let host = try reserveAddress(conn, mac: mac, name: request.name) {
            undo.push("remove DHCP entry \(host.ip)") {
                try conn.network(name: network).update(command: .delete, section: .ipDHCPHost, xml: host.xml)
            }
        }

        // 3. The config drive.
        if let configDrive {
            let volume = try uploadConfigDrive(conn, pool: pool, name: request.name, iso: try configDrive.isoImage())
            undo.push("delete config drive") { try volume.delete() }
            context["ConfigDrivePath"] = try volume.path()
        }

        // 4. Define, 5. start.
        let xml = templates.renderDomain(context)
        let domain = try conn.defineDomain(xml: xml)
        // Re-read before the answer: the view may already hold it from its "defined" event, stopped.
        LibvirtHypervisor.touched(domain)
        undo.push("undefine domain") {
            if (try? domain.isActive()) == true { try domain.destroy() }
            try domain.undefine()
        }
        try domain.start()
        logger.info("machine created", metadata: ["provider": "\(name)", "machine": "\(request.name)"])
        return try MachineReader(conn: conn, network: network).machine(domain)
    }

    private func imageVolume(_ conn: Connection, _ image: String) throws -> StorageVolume {
        guard let poolName = settings.imageStoragePool, let pool = try? conn.storagePool(name: poolName),
              let volume = try? pool.volume(name: image) else {
            throw GuesthouseError.notFound("image \"\(image)\" not found")
        }
        return volume
    }

    /// The built-in template layers a qcow2 volume over the image in pools of files (dir, fs,
    /// netfs), so a 2 GiB image costs no copy; elsewhere (LVM, ...) the image is cloned and grown.
    /// A configured `volume_template` is cloned from the image as vmango did, unless it names its
    /// own `<backingStore>`.
    private func createRootVolume(_ conn: Connection, pool: StoragePool, image: StorageVolume,
                                  imageFormat: MachineImage.Format, request: MachineRequest,
                                  context: inout [String: Any]) throws -> StorageVolume {
        let poolType = (try? XMLTree.parse(pool.xml())["type"]) ?? ""
        let imageInfo = try image.info()
        // A root disk is never smaller than its image, whatever the plan says.
        let wanted = max(request.plan.diskBytes, imageInfo.capacity)
        var plan = context["Plan"] as? [String: Any] ?? [:]
        plan["DiskSize"] = wanted
        plan["DiskSizeGigabytes"] = (wanted + (1 << 30) - 1) >> 30
        context["Plan"] = plan
        let layered = templates.builtInVolume && ["dir", "fs", "netfs"].contains(poolType)
        var rootVolume = context["RootVolume"] as? [String: Any] ?? [:]
        rootVolume["Format"] = layered ? "qcow2" : imageFormat.name
        context["RootVolume"] = rootVolume
        if layered {
            context["Backing"] = ["Path": try image.path(), "Format": imageFormat.name]
        }
        let xml = templates.renderVolume(context)
        let what = "plan \"\(request.plan.name)\""
        if layered || xml.contains("<backingStore") {
            return try PoolRoom.createVolume(in: pool, xml: xml, bytes: wanted, what: what)
        }
        let volume = try PoolRoom.createVolume(in: pool, xml: xml, from: image, bytes: wanted, what: what)
        do {
            if try volume.info().capacity < wanted { try volume.resize(to: wanted) }
        } catch {
            try? volume.delete()
            throw error
        }
        return volume
    }

    /// Adds a static DHCP entry with the lowest free address of the network's range. Serialised per
    /// network in this process; across replicas libvirt refuses a second entry for one address, and
    /// the next free one is tried. nil when the network has no DHCP range (no fixed address then).
    private func reserveAddress(_ conn: Connection, mac: String, name machine: String) throws -> DHCPPlan.Host? {
        let net = try conn.network(name: network)
        return try hypervisor.locks.networks.withLock(hypervisor.uri + "|" + network) {
            var refused: Set<String> = []
            for _ in 0..<8 {
                let plan: DHCPPlan
                do {
                    plan = try DHCPPlan(networkXML: Self.definition(of: net), network: network)
                } catch {
                    logger.warning("no fixed address", metadata: ["network": "\(network)", "reason": "\(error)"])
                    return nil
                }
                let leased = Set(((try? net.dhcpLeases()) ?? []).map(\.address))
                guard let ip = plan.freeAddress(excluding: leased.union(refused)) else {
                    throw GuesthouseError.conflict("network \"\(network)\" has no free address left in its DHCP range")
                }
                let host = DHCPPlan.Host(mac: mac, name: machine, ip: ip)
                do {
                    try net.update(command: .addLast, section: .ipDHCPHost, xml: host.xml)
                    return host
                } catch {
                    refused.insert(ip)
                    logger.info("address taken meanwhile", metadata: ["ip": "\(ip)", "reason": "\(error)"])
                }
            }
            throw GuesthouseError.hypervisor("network \"\(network)\" refused every address tried")
        }
    }

    private func uploadConfigDrive(_ conn: Connection, pool: StoragePool, name machine: String, iso: Data) throws -> StorageVolume {
        let volume = try pool.createVolume(xml: """
            <volume><name>\(xmlEscape(MachineVolumeNames.configDrive(machine)))</name>\
            <capacity unit='bytes'>\(iso.count)</capacity><target><format type='raw'/></target></volume>
            """)
        do {
            let stream = try Stream(connection: conn)
            do {
                try volume.upload(from: stream, offset: 0, length: UInt64(iso.count))
                try iso.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let end = min(offset + 262_144, bytes.count)
                        try stream.send(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                        offset = end
                    }
                }
                try stream.finish()
            } catch {
                stream.abort()
                throw error
            }
        } catch {
            try? volume.delete()
            throw error
        }
        return volume
    }

    private func templateContext(_ request: MachineRequest, uuid: String, image: StorageVolume,
                                 imageFormat: MachineImage.Format) throws -> [String: Any] {
        let parsed = try MachineImage.Name(parsing: request.image)
        let mac = Self.randomMAC()
        let metadata = VmangoMetadata(imageID: request.image, os: parsed.os, creator: request.creator,
                                      plan: request.plan.name, sshKeys: request.sshKeys, userdata: request.userdata)
        let imageInfo = try image.info()
        return [
            "Machine": [
                "Name": request.name, "Id": uuid.replacingOccurrences(of: "-", with: ""), "Uuid": uuid, "HWAddr": mac,
                "OS": parsed.os, "Arch": parsed.arch, "Memory": request.plan.memoryBytes, "Cpus": request.plan.cpus,
                "Creator": request.creator,
            ] as [String: Any],
            "Image": [
                "Id": request.image, "OS": parsed.os, "Arch": parsed.arch, "Size": imageInfo.allocation,
                "Type": imageFormat.rawValue, "TypeString": imageFormat.name, "PoolName": settings.imageStoragePool ?? "",
                "Path": try image.path(),
            ] as [String: Any],
            "Plan": [
                "Name": request.plan.name, "Memory": request.plan.memoryBytes, "MemoryMiB": request.plan.memoryMiB,
                "Cpus": request.plan.cpus, "DiskSize": request.plan.diskBytes,
                "DiskSizeGigabytes": request.plan.diskSizeGiB,
            ] as [String: Any],
            "RootVolume": ["Name": MachineVolumeNames.rootVolume(request.name), "Pool": rootPool] as [String: Any],
            "Network": network,
            "DomainType": hypervisor.domainType,
            "Metadata": metadata.xml,
            "HWAddr": mac,
        ]
    }

    /// A locally administered MAC in QEMU's 52:54:00 range.
    static func randomMAC() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<3).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "52:54:00:" + bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
    }
}

/// The undos of a create, run in reverse when a later step fails. An undo that fails is logged:
/// the error the caller sees is the step's, not the cleanup's.
struct UndoStack {
    let logger: Logger
    let machine: String
    private var steps: [(String, () throws -> Void)] = []

    init(logger: Logger, machine: String) {
        self.logger = logger
        self.machine = machine
    }

    mutating func push(_ what: String, _ step: @escaping () throws -> Void) {
        steps.append((what, step))
    }

    func run() {
        for (what, step) in steps.reversed() {
            do {
                try step()
            } catch {
                logger.error("rollback step failed", metadata: ["machine": "\(machine)", "step": "\(what)",
                                                                 "error": "\(error)"])
            }
        }
    }
}
