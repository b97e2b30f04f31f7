/// A hypervisor host seen as a pool (Simplestack's word): its memory and software.
public struct PoolInfo: Sendable, Equatable {
    public var usedMemoryMiB: Int
    public var totalMemoryMiB: Int
    public var uuid: String
    /// The host that manages the pool (for libvirt: the host itself).
    public var master: String
    /// The libvirt version serving the host.
    public var libvirtVersion: String
    /// The hypervisor driver's version, when the driver reports one.
    public var hypervisorVersion: String?
    /// The driver's name, e.g. "QEMU".
    public var hypervisorType: String

    public init(usedMemoryMiB: Int, totalMemoryMiB: Int, uuid: String, master: String, libvirtVersion: String,
                hypervisorVersion: String?, hypervisorType: String) {
        self.usedMemoryMiB = usedMemoryMiB
        self.totalMemoryMiB = totalMemoryMiB
        self.uuid = uuid
        self.master = master
        self.libvirtVersion = libvirtVersion
        self.hypervisorVersion = hypervisorVersion
        self.hypervisorType = hypervisorType
    }
}

/// One physical host of a pool.
public struct HostInfo: Sendable, Equatable {
    public var id: String
    public var name: String
    public var address: String
    public var cpus: Int
    public var memoryMiB: Int

    public init(id: String, name: String, address: String, cpus: Int, memoryMiB: Int) {
        self.id = id
        self.name = name
        self.address = address
        self.cpus = cpus
        self.memoryMiB = memoryMiB
    }
}

/// A storage pool of a host. Sizes in bytes.
public struct Storage: Sendable, Equatable {
    public var id: String
    public var name: String
    public var type: String
    public var usedSpace: UInt64
    public var allocatedSpace: UInt64
    public var size: UInt64

    public init(id: String, name: String, type: String, usedSpace: UInt64, allocatedSpace: UInt64, size: UInt64) {
        self.id = id
        self.name = name
        self.type = type
        self.usedSpace = usedSpace
        self.allocatedSpace = allocatedSpace
        self.size = size
    }
}
