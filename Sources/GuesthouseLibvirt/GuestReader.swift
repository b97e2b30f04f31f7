import GuesthouseCore
import Libvirt

/// Builds `Guest` values from domains, caching per call what many guests share (volume sizes,
/// DHCP leases), so that listing a thousand guests costs few libvirt calls beyond one per guest.
public final class GuestReader {
    let conn: Connection
    private var leases: [String: [DHCPLease]] = [:]
    private var pools: [String: StoragePool?] = [:]

    public init(conn: Connection) { self.conn = conn }

    func guest(_ domain: Domain) throws -> Guest {
        try viewed(domain).guest
    }

    /// The domain as a host's view keeps it: the guest, its definition, libvirt's state and the
    /// capacity of each disk's volume.
    public func viewed(_ domain: Domain) throws -> ViewedDomain {
        let state = try domain.state()
        let definition = try DomainDefinition(xml: domain.xml())
        TouchedDomains.record(definition.uuid)
        var capacities: [String: UInt64] = [:]
        for disk in definition.disks where disk.device == "disk" {
            capacities[disk.target] = capacity(of: disk)
        }
        return ViewedDomain(definition: definition, state: state, diskCapacities: capacities,
                            ip: state == .running ? address(of: definition.interfaces) : nil)
    }

    static func gibibytes(_ bytes: UInt64) -> Double {
        Double(bytes) / 1_073_741_824.0
    }

    /// The capacity of the volume behind a disk in bytes, nil when it is not a known volume.
    public func capacity(of disk: DomainDisk) -> UInt64? {
        try? volume(of: disk)?.info().capacity
    }

    /// The storage volume behind a disk (`<source pool= volume=>` or a file path), nil when none.
    public func volume(of disk: DomainDisk) -> StorageVolume? {
        if let poolName = disk.pool, let volumeName = disk.volume {
            return (try? storagePool(poolName)?.volume(name: volumeName)) ?? nil
        }
        guard let path = disk.source, path.hasPrefix("/") else { return nil }
        return try? conn.storageVolume(path: path)
    }

    func storagePool(_ name: String) -> StoragePool? {
        if let cached = pools[name] { return cached }
        let pool = try? conn.storagePool(name: name)
        pools[name] = pool
        return pool
    }

    /// The first IPv4 address a network's DHCP server leased to one of the interfaces.
    func address(of interfaces: [DomainInterface]) -> String? {
        lease(of: interfaces)?.address
    }

    /// The first DHCP lease a network's server gave one of the interfaces.
    public func lease(of interfaces: [DomainInterface]) -> DHCPLease? {
        for interface in interfaces {
            guard let network = interface.network else { continue }
            if leases[network] == nil {
                leases[network] = (try? conn.network(name: network).dhcpLeases()) ?? []
            }
            if let lease = leases[network]?.first(where: { $0.mac.lowercased() == interface.mac.lowercased() }) {
                return lease
            }
        }
        return nil
    }
}

/// One domain as a host's view keeps it (see `HostView`).
public struct ViewedDomain: Sendable {
    public let definition: DomainDefinition
    public let state: DomainState
    /// The capacity in bytes of the volume behind each disk (by target device), where known.
    public var diskCapacities: [String: UInt64]
    /// The first DHCP-leased IPv4 address of a running domain.
    public var ip: String?
    /// The guest as every API reports it, derived from the rest.
    public private(set) var guest: Guest

    init(definition: DomainDefinition, state: DomainState, diskCapacities: [String: UInt64], ip: String?) {
        self.definition = definition
        self.state = state
        self.diskCapacities = diskCapacities
        self.ip = ip
        let disks = definition.disks.filter { $0.device == "disk" }
        guest = Guest(
            id: definition.uuid, name: definition.name, cpus: definition.vcpus,
            memoryMiB: Int(definition.memoryKiB / 1024),
            hddGiB: disks.last.flatMap { diskCapacities[$0.target] }.map(GuestReader.gibibytes),
            paravirtualized: definition.isParavirtualized, ip: ip,
            state: LibvirtHypervisor.guestState(state), domainType: definition.type,
            disks: definition.disks, interfaces: definition.interfaces)
    }

    /// The same domain with fresh volume sizes and address (what has no events).
    func reconciled(capacities: [String: UInt64], ip: String?) -> ViewedDomain {
        ViewedDomain(definition: definition, state: state, diskCapacities: capacities, ip: ip)
    }
}
