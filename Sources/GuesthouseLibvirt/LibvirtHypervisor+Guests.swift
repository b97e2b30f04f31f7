import Foundation
import GuesthouseCore
import Libvirt

extension LibvirtHypervisor {
    /// Every guest, from the host's view (kept by libvirt's events), by name.
    public func guests() async throws -> [Guest] {
        if let view = try await readyView() { return view.guests() }
        return try await withConnection("guest list", readOnly: true) { conn in
            try HostView.readAll(conn).map(\.guest)
        }
    }

    /// The guest from the host's view; one the view does not hold yet is looked up in libvirt
    /// (and a 404 is libvirt's answer, not the view's).
    public func guest(id: String) async throws -> Guest {
        let view = try await readyView()
        if let guest = view?.guest(id: id) { return guest }
        return try await withConnection("guest info", readOnly: true) { conn in
            let guest = try GuestReader(conn: conn).guest(Self.lookup(conn, id: id))
            view?.refresh([guest.id.lowercased()], conn)
            return guest
        }
    }

    /// The view of this host for this request's connection, once it holds a full read; nil where
    /// the driver has no events (read libvirt then).
    public func readyView() async throws -> HostView? {
        if let view = pool.readyView(uri: uri, credentials: credentials) { return view }  // the hot path
        _ = try await pool.connection(uri: uri, credentials: credentials)
        let view = pool.view(uri: uri, credentials: credentials)
        guard view.isEventDriven else { return nil }
        if view.isReady { return view }  // no task, no timer
        try await withTimeout(pool.deadlines, seconds: operationTimeout, what: "reading the guests of \(uri)") {
            try await view.waitUntilReady()
        }
        return view.isEventDriven ? view : nil
    }

    public func createGuest(_ spec: GuestSpec) async throws -> Guest {
        try Validation.name(spec.name)
        try Validation.range(spec.memoryMiB, Validation.memoryMiB, field: "memory")
        try Validation.range(spec.cpus, Validation.cpus, field: "cpus")
        if let hdd = spec.hddGiB { try Validation.range(hdd, Validation.diskGiB, field: "hdd") }
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
            if let creator = spec.creator { domain.metadata.append(VmangoMetadata(creator: creator).xml) }
            if let network = spec.network {
                _ = try conn.network(name: network)
                domain.interfaces.append(.init(network: network, model: spec.paravirtualized ? "virtio" : "e1000"))
            }
            do {
                if let hdd = spec.hddGiB {
                    let pool = try spec.storage.map { try Self.lookupPool(conn, id: $0) } ?? Self.defaultPool(conn)
                    let volumeName = "\(spec.name)-disk0.qcow2"
                    let volume = try PoolRoom.createVolume(
                        in: pool, xml: VolumeXML.render(name: volumeName, capacityBytes: UInt64(hdd) << 30),
                        bytes: UInt64(hdd) << 30, what: "hdd")
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
        if let memory = update.memoryMiB { try Validation.range(memory, Validation.memoryMiB, field: "memory") }
        if let cpus = update.cpus { try Validation.range(cpus, Validation.cpus, field: "cpus") }
        if let hdd = update.hddGiB { try Validation.range(hdd, Validation.diskGiB, field: "hdd") }
        return try await withConnection("guest update") { conn in
            let domain = try Self.lookup(conn, id: id)
            if let hdd = update.hddGiB { try Self.resizeLastDisk(conn, domain, gib: hdd) }
            if let paravirtualized = update.paravirtualized { try Self.setParavirtualized(locks, conn, domain, paravirtualized) }
            // libvirt's own calls for the configured memory and vCPUs (atomic, config only).
            try Self.withDomainLock(locks, conn, domain) {
                if let memory = update.memoryMiB { try domain.setConfiguredMemory(kib: UInt64(memory) * 1024) }
                if let cpus = update.cpus { try domain.setConfiguredVcpus(cpus) }
            }
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
