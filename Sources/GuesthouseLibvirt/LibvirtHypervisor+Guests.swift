import Foundation
import GuesthouseCore
import Libvirt

extension LibvirtHypervisor {
    public func guests() async throws -> [Guest] {
        try await withConnection("guest list") { conn in
            let reader = GuestReader(conn: conn)
            return try conn.allDomains().compactMap { domain in
                do {
                    return try reader.guest(domain)
                } catch let error as LibvirtError where error.kind == .notFound {
                    return nil  // undefined while we listed it
                }
            }
        }
    }

    public func guest(id: String) async throws -> Guest {
        try await pool.guestInfo.guest(uri: uri, id: id) {
            try await withConnection("guest info", readOnly: true) { conn in
                try GuestReader(conn: conn).guest(Self.lookup(conn, id: id))
            }
        }
    }

    public func createGuest(_ spec: GuestSpec) async throws -> Guest {
        try Validation.name(spec.name)
        try Validation.range(spec.memoryMiB, 16...16_777_216, field: "memory")
        try Validation.range(spec.cpus, 1...1024, field: "cpus")
        if let hdd = spec.hddGiB { try Validation.range(hdd, 1...65536, field: "hdd") }
        if let network = spec.network { try Validation.name(network, field: "network") }
        if domainType == "lxc" {
            throw GuesthouseError.notImplemented(
                "creating a guest is not supported on the lxc family: containers need a root filesystem; use /api/container/create")
        }
        let domainType = self.domainType
        return try await withConnection("guest create") { conn in
            if (try? conn.domain(name: spec.name)) != nil {
                throw GuesthouseError.conflict("a guest named '\(spec.name)' already exists")
            }
            var created: StorageVolume?
            var domain = NewDomain(type: domainType, name: spec.name, memoryMiB: spec.memoryMiB, cpus: spec.cpus,
                                   os: .hvm(arch: "x86_64"))
            let bus = spec.paravirtualized ? "virtio" : "ide"
            if let network = spec.network {
                _ = try conn.network(name: network)
                domain.interfaces.append(.init(network: network, model: spec.paravirtualized ? "virtio" : "e1000"))
            }
            do {
                if let hdd = spec.hddGiB {
                    let pool = try spec.storage.map { try Self.lookupPool(conn, id: $0) } ?? Self.defaultPool(conn)
                    let volumeName = "\(spec.name)-disk0.qcow2"
                    let volume = try pool.createVolume(xml: VolumeXML.render(name: volumeName,
                                                                             capacityBytes: UInt64(hdd) << 30))
                    created = volume
                    domain.disks.append(.init(pool: pool.name, volume: volumeName, format: "qcow2",
                                              target: spec.paravirtualized ? "vda" : "hda", bus: bus))
                }
                let defined = try conn.defineDomain(xml: domain.renderXML())
                return try GuestReader(conn: conn).guest(defined)
            } catch {
                try? created?.delete()
                throw error
            }
        }
    }

    static func defaultPool(_ conn: Connection) throws -> StoragePool {
        let pools = try conn.allStoragePools()
        if let pool = pools.first(where: { $0.name == "default" }) ?? pools.first(where: { (try? $0.info().running) == true }) {
            return pool
        }
        throw GuesthouseError.invalid("the host has no storage pool for the disk; name one in \"storage\"")
    }

    public func updateGuest(id: String, _ update: GuestUpdate) async throws -> Guest {
        if let name = update.name { try Validation.name(name) }
        if let memory = update.memoryMiB { try Validation.range(memory, 16...16_777_216, field: "memory") }
        if let cpus = update.cpus { try Validation.range(cpus, 1...1024, field: "cpus") }
        if let hdd = update.hddGiB { try Validation.range(hdd, 1...65536, field: "hdd") }
        return try await withConnection("guest update") { conn in
            let domain = try Self.lookup(conn, id: id)
            if let hdd = update.hddGiB { try Self.resizeLastDisk(conn, domain, gib: hdd) }
            if let paravirtualized = update.paravirtualized { try Self.setParavirtualized(conn, domain, paravirtualized) }
            if let memory = update.memoryMiB { try domain.setConfiguredMemory(kib: UInt64(memory) * 1024) }
            if let cpus = update.cpus { try domain.setConfiguredVcpus(cpus) }
            if let name = update.name, name != domain.name {
                if (try? conn.domain(name: name)) != nil {
                    throw GuesthouseError.conflict("a guest named '\(name)' already exists")
                }
                if try domain.isActive() {
                    throw GuesthouseError.conflict("a running guest cannot be renamed; stop it first")
                }
                try domain.rename(to: name)
            }
            return try GuestReader(conn: conn).guest(Self.lookup(conn, id: domain.uuid))
        }
    }

    public func deleteGuest(id: String) async throws {
        try await withConnection("guest delete") { conn in
            let domain = try Self.lookup(conn, id: id)
            let definition = try DomainDefinition(xml: domain.xml(inactive: true))
            if try domain.isActive() { try domain.destroy() }
            try domain.undefine()
            // The guest's disks go with it; CD images stay, they are shared.
            let reader = GuestReader(conn: conn)
            for disk in definition.disks where disk.device == "disk" {
                try? reader.volume(of: disk)?.delete()
            }
        }
    }

    public func power(id: String, _ action: PowerAction) async throws {
        try await withConnection("power \(action.rawValue)") { conn in
            let domain = try Self.lookup(conn, id: id)
            let state = Self.guestState(try domain.state())
            if let refusal = Self.refusal(of: action, in: state, name: domain.name) { throw refusal }
            switch action {
            case .start: try domain.start()
            case .stop: try domain.shutdown()
            case .forceStop: try domain.destroy()
            case .pause: try domain.suspend()
            case .resume: try domain.resume()
            }
        }
    }

    /// Why `action` does not apply to a guest in `state`, or nil when it does.
    static func refusal(of action: PowerAction, in state: GuestState, name: String) -> GuesthouseError? {
        let message: String
        switch action {
        case .start:
            guard state != .stopped else { return nil }
            message = "guest '\(name)' is already running"
        case .stop, .forceStop, .pause:
            if state == .started || (state == .paused && action != .pause) { return nil }
            message = state == .paused ? "guest '\(name)' is already paused" : "guest '\(name)' is not running"
        case .resume:
            guard state != .paused else { return nil }
            message = state == .stopped ? "guest '\(name)' is not running" : "guest '\(name)' is not paused"
        }
        return .conflict(message)
    }

    public func reboot(id: String, force: Bool) async throws {
        try await withConnection(force ? "forced reboot" : "reboot") { conn in
            let domain = try Self.lookup(conn, id: id)
            guard try domain.isActive() else {
                throw GuesthouseError.conflict("guest '\(domain.name)' is not running")
            }
            if force { try domain.reset() } else { try domain.reboot() }
        }
    }
}

/// Renders storage volume XML.
enum VolumeXML {
    /// A volume of `capacityBytes`; `allocationBytes` 0 keeps a raw file sparse (without it,
    /// libvirt allocates a raw volume whole).
    static func render(name: String, capacityBytes: UInt64, format: String = "qcow2", allocationBytes: UInt64? = nil) -> String {
        """
        <volume>
          <name>\(xmlEscape(name))</name>
          <capacity unit='bytes'>\(capacityBytes)</capacity>\(allocationBytes.map { "\n  <allocation unit='bytes'>\($0)</allocation>" } ?? "")
          <target><format type='\(xmlEscape(format))'/></target>
        </volume>
        """
    }
}
