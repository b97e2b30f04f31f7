import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import Libvirt
import Logging

/// One vmango provider: a `[hypervisor.NAME]` block over a libvirt connection from the shared pool.
public struct LibvirtMachineProvider: Sendable {
    public let name: String
    let settings: HypervisorConfig
    let hypervisor: LibvirtHypervisor
    let templates: MachineTemplates
    let logger: Logger

    /// The network machines join.
    var network: String { settings.network ?? "default" }
    /// The pool root disks and config drives go to.
    var rootPool: String { settings.rootStoragePool ?? "default" }

    public init(settings: HypervisorConfig, hypervisor: LibvirtHypervisor, templates: MachineTemplates, logger: Logger) {
        self.name = settings.name
        self.settings = settings
        self.hypervisor = hypervisor
        self.templates = templates
        self.logger = logger
    }

    /// Whether the driver can take volume uploads. libvirt's test driver cannot, so machines made
    /// there get no config drive (their metadata still records keys and user data).
    var uploadsVolumes: Bool { !hypervisor.uri.lowercased().hasPrefix("test:") }

    func isIgnored(_ domainName: String) -> Bool { settings.ignoredVMs.contains(domainName) }

    /// Every machine, from the host's view (kept by libvirt's events) where there is one.
    public func machines() async throws -> [Machine] {
        if let view = try await hypervisor.readyView() {
            let domains = view.domains().filter { !isIgnored($0.definition.name) }
            return try await hypervisor.withConnection("machine list", readOnly: true) { [network] conn in
                let reader = MachineReader(conn: conn, network: network)
                return domains.map(reader.machine).sorted { $0.name < $1.name }
            }
        }
        return try await hypervisor.withConnection("machine list", readOnly: true) { conn in
            let reader = MachineReader(conn: conn, network: network)
            return try conn.allDomains().filter { !isIgnored($0.name) }.map(reader.machine).sorted { $0.name < $1.name }
        }
    }

    /// The machine, from the host's view where it holds it, else read from libvirt.
    public func machine(id: String) async throws -> Machine {
        if let view = try await hypervisor.readyView(), let domain = view.domain(id: id) {
            guard !isIgnored(domain.definition.name) else {
                throw GuesthouseError.notFound("machine \(id) of provider \(name) not found")
            }
            return try await hypervisor.withConnection("machine info", readOnly: true) { [network] conn in
                MachineReader(conn: conn, network: network).machine(domain)
            }
        }
        return try await hypervisor.withConnection("machine info", readOnly: true) { conn in
            try MachineReader(conn: conn, network: network).machine(try lookup(conn, id: id))
        }
    }

    /// The machine `id` names (32 hex digits, a UUID or a name); ignored ones do not exist here.
    func lookup(_ conn: Connection, id: String) throws -> Domain {
        let domain: Domain
        do {
            domain = try LibvirtHypervisor.lookup(conn, id: id)
        } catch is GuesthouseError {
            throw GuesthouseError.notFound("machine \(id) of provider \(name) not found")
        }
        if isIgnored(domain.name) { throw GuesthouseError.notFound("machine \(id) of provider \(name) not found") }
        return domain
    }

    public func images() async throws -> [MachineImage] {
        guard let poolName = settings.imageStoragePool else { return [] }
        return try await hypervisor.withConnection("image list") { conn in
            let pool = try conn.storagePool(name: poolName)
            try? pool.refresh()
            return try pool.volumes().compactMap { volume -> MachineImage? in
                let parsed: MachineImage.Name
                do {
                    parsed = try MachineImage.Name(parsing: volume.name)
                } catch {
                    logger.warning("image skipped", metadata: ["provider": "\(name)", "volume": "\(volume.name)",
                                                                "reason": "\(error)"])
                    return nil
                }
                let info = try volume.info()
                return MachineImage(id: volume.name, os: parsed.os, arch: parsed.arch, size: info.allocation,
                                    format: parsed.format, date: Self.modificationDate(of: volume), poolName: poolName)
            }.sorted { $0.id < $1.id }
        }
    }

    /// The volume's mtime from its XML (`<timestamps><mtime>SECONDS.NANOS`), RFC 3339; "" if absent.
    static func modificationDate(of volume: StorageVolume) -> String {
        guard let xml = try? volume.xml(), let tree = try? XMLTree.parse(xml),
              let text = tree.path("target", "timestamps", "mtime")?.trimmedText,
              let seconds = Double(text) else { return "" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    public func perform(_ action: MachineAction, id: String) async throws {
        try await hypervisor.withConnection("machine \(action.rawValue)") { conn in
            let domain = try lookup(conn, id: id)
            let running = try domain.isActive()
            switch action {
            case .start:
                if running { throw GuesthouseError.conflict("machine \(domain.name) is already running") }
                try domain.start()
            case .stop:
                // vmango's stop powers off at once (virDomainDestroy returns when the guest is off);
                // the state is read back so a stop never answers while the machine runs.
                if !running { throw GuesthouseError.conflict("machine \(domain.name) is not running") }
                try domain.destroy()
                if LibvirtHypervisor.guestState(try domain.state()) != .stopped {
                    throw GuesthouseError.conflict("machine \(domain.name) is still running after the power-off")
                }
            case .reboot:
                if !running { throw GuesthouseError.conflict("machine \(domain.name) is not running") }
                try domain.reboot()
            }
        }
    }

    /// Removes the machine's DHCP entry, its volumes (every disk, and the config drive among its CD
    /// drives; other CD images are shared and stay) and then its definition. A failure leaves the
    /// definition in place, so deleting again finishes the work.
    public func delete(id: String) async throws {
        try await hypervisor.withConnection("machine delete") { conn in
            let domain = try lookup(conn, id: id)
            let definition = try DomainDefinition(xml: domain.xml(inactive: true))
            if try domain.isActive() { try domain.destroy() }
            for interface in definition.interfaces {
                guard let networkName = interface.network, let network = try? conn.network(name: networkName) else { continue }
                try hypervisor.locks.networks.withLock(hypervisor.uri + "|" + networkName) {
                    let plan = try? DHCPPlan(networkXML: Self.definition(of: network), network: networkName)
                    if let host = plan?.host(mac: interface.mac) {
                        try network.update(command: .delete, section: .ipDHCPHost, xml: host.xml)
                    }
                }
            }
            let reader = GuestReader(conn: conn)
            for disk in definition.disks where disk.device == "disk" || MachineVolumeNames.isConfigDrive(disk) {
                try reader.volume(of: disk)?.delete()
            }
            try domain.undefine()
        }
    }

    public func status() async throws -> ProviderStatus {
        try await hypervisor.withConnection("provider status") { conn in
            let node = try conn.nodeInfo()
            var machines = 0, running = 0
            var used: UInt64 = 0
            for domain in try conn.allDomains() where !isIgnored(domain.name) {
                machines += 1
                if try domain.isActive() {
                    running += 1
                    used += (try? DomainDefinition(xml: domain.xml()).memoryKiB).map { $0 * 1024 } ?? 0
                }
            }
            let pool = try? conn.storagePool(name: rootPool).info()
            return ProviderStatus(name: name, machines: machines, runningMachines: running,
                                  memoryTotal: node.memoryKiB * 1024, memoryUsed: used,
                                  storageTotal: pool?.capacity ?? 0, storageUsed: pool?.allocation ?? 0)
        }
    }
}

/// How machines' volumes are named: vmango's `NAME_disk` root volume (templates must keep the
/// `_disk` suffix) and `NAME_config.iso` config drive.
enum MachineVolumeNames {
    static func rootVolume(_ machine: String) -> String { machine + "_disk" }
    static func configDrive(_ machine: String) -> String { machine + "_config.iso" }

    static func isConfigDrive(_ disk: DomainDisk) -> Bool {
        guard disk.device == "cdrom" else { return false }
        let name = disk.volume ?? disk.source.map { ($0 as NSString).lastPathComponent } ?? ""
        return name.hasSuffix("_config.iso")
    }
}

extension LibvirtMachineProvider {
    /// A network's persistent definition; the live one where the driver (test) keeps no other.
    static func definition(of network: Network) throws -> String {
        if let xml = try? network.xml(inactive: true) { return xml }
        return try network.xml()
    }
}
