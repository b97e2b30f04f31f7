/// One disk of a guest as the disk routes show it.
public struct GuestDiskInfo: Sendable, Equatable {
    /// The target device, e.g. "vda": the disk's id.
    public var id: String
    /// The volume name, or the file name of its path.
    public var name: String
    /// Its position among the guest's disks, from 0.
    public var number: Int
    /// Capacity in bytes, nil when unknown.
    public var capacityBytes: UInt64?
    public var path: String?
    public var pool: String?
    public var bus: String
    public var format: String?

    public init(id: String, name: String, number: Int, capacityBytes: UInt64?, path: String?, pool: String?,
                bus: String, format: String?) {
        self.id = id
        self.name = name
        self.number = number
        self.capacityBytes = capacityBytes
        self.path = path
        self.pool = pool
        self.bus = bus
        self.format = format
    }
}

/// A new disk: a new volume attached to the guest.
public struct DiskSpec: Sendable, Equatable {
    public var sizeGiB: Int
    /// Pool id or name; nil: the pool of the guest's first disk, else the host's default pool.
    public var pool: String?
    /// "qcow2" (default) or "raw".
    public var format: String?
    /// The formats a new disk may have.
    public static let formats = ["qcow2", "raw"]
    public init(sizeGiB: Int, pool: String? = nil, format: String? = nil) {
        self.sizeGiB = sizeGiB
        self.pool = pool
        self.format = format
    }
}

/// Disks of a guest.
public protocol GuestDisks: Sendable {
    func disks(guestID: String) async throws -> [GuestDiskInfo]
    func disk(guestID: String, diskID: String) async throws -> GuestDiskInfo
    /// Creates a volume and attaches it; the volume is deleted again when attaching fails.
    func createDisk(guestID: String, _ spec: DiskSpec) async throws -> GuestDiskInfo
    /// Grows the disk to `sizeGiB` (shrinking is `operationNotAllowed`) and/or renames its volume.
    func updateDisk(guestID: String, diskID: String, sizeGiB: Int?, name: String?) async throws -> GuestDiskInfo
    /// Detaches the disk and deletes its volume.
    func deleteDisk(guestID: String, diskID: String) async throws
}
