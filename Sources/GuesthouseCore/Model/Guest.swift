/// The power state every API reports; each libvirt state maps onto one of them.
public enum GuestState: String, Sendable, Codable, Equatable {
    case started = "STARTED"
    case stopped = "STOPPED"
    case paused = "PAUSED"
}

/// A guest (virtual machine or container) as Guesthouse models it, whatever API shows it.
public struct Guest: Sendable, Equatable {
    /// The guest's UUID, dashed.
    public var id: String
    public var name: String
    public var cpus: Int
    /// Memory in MiB.
    public var memoryMiB: Int
    /// Size of the last disk in GiB, nil when the guest has no disk.
    public var hddGiB: Double?
    public var paravirtualized: Bool
    public var ip: String?
    public var state: GuestState
    /// The libvirt domain type, e.g. "kvm", "qemu", "lxc", "test".
    public var domainType: String
    public var disks: [DomainDisk]
    public var interfaces: [DomainInterface]

    public init(id: String, name: String, cpus: Int, memoryMiB: Int, hddGiB: Double?, paravirtualized: Bool,
                ip: String?, state: GuestState, domainType: String, disks: [DomainDisk] = [],
                interfaces: [DomainInterface] = []) {
        self.id = id
        self.name = name
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.hddGiB = hddGiB
        self.paravirtualized = paravirtualized
        self.ip = ip
        self.state = state
        self.domainType = domainType
        self.disks = disks
        self.interfaces = interfaces
    }
}

/// What a new guest should be.
public struct GuestSpec: Sendable, Equatable {
    public var name: String
    public var memoryMiB: Int
    public var cpus: Int
    /// A first disk of this many GiB, created in `storage` (or the host's first pool).
    public var hddGiB: Int?
    /// The storage pool (id or name) for the first disk.
    public var storage: String?
    /// A network (name) for a first interface.
    public var network: String?
    public var paravirtualized: Bool
    /// The server user creating it: recorded as the vmango Creator, so ownership and quotas count it.
    public var creator: String?

    public init(name: String, memoryMiB: Int = 512, cpus: Int = 1, hddGiB: Int? = nil, storage: String? = nil,
                network: String? = nil, paravirtualized: Bool = true, creator: String? = nil) {
        self.name = name
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.hddGiB = hddGiB
        self.storage = storage
        self.network = network
        self.paravirtualized = paravirtualized
        self.creator = creator
    }
}

/// Changes to a guest; nil leaves a field as it is.
public struct GuestUpdate: Sendable, Equatable {
    public var name: String?
    public var memoryMiB: Int?
    public var cpus: Int?
    public var hddGiB: Int?
    public var paravirtualized: Bool?

    public init(name: String? = nil, memoryMiB: Int? = nil, cpus: Int? = nil, hddGiB: Int? = nil,
                paravirtualized: Bool? = nil) {
        self.name = name
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.hddGiB = hddGiB
        self.paravirtualized = paravirtualized
    }

    public var isEmpty: Bool { self == GuestUpdate() }
}

/// A change of power state.
public enum PowerAction: String, Sendable, CaseIterable {
    case start
    case stop
    case forceStop = "force_stop"
    case pause
    case resume
}
