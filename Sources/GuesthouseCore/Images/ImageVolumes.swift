/// A storage pool as an image import sees it.
public struct ImagePool: Sendable, Equatable {
    public var name: String
    /// The pool's libvirt type ("dir", "logical", ...).
    public var type: String
    /// Free bytes.
    public var available: UInt64
    /// The volume format imports write into this pool: qcow2 where the pool holds files, raw
    /// where it holds block devices (logical, disk, iscsi, rbd, ...).
    public var volumeFormat: String { ["dir", "fs", "netfs", "gluster"].contains(type) ? "qcow2" : "raw" }

    public init(name: String, type: String, available: UInt64) {
        self.name = name
        self.type = type
        self.available = available
    }
}

/// A volume an import made.
public struct ImageVolume: Sendable, Equatable {
    public var pool: String
    public var name: String
    public var format: String
    public var capacity: UInt64

    public init(pool: String, name: String, format: String, capacity: UInt64) {
        self.pool = pool
        self.name = name
        self.format = format
        self.capacity = capacity
    }
}

/// What imports of disk images need from a hypervisor: pools, volumes filled from a local file,
/// and the definition of a guest over them. The libvirt driver implements it.
public protocol ImageVolumes: Sendable {
    /// The domain type of new guests ("kvm", "qemu", ...).
    var domainType: String { get }
    /// The pool with this id (UUID) or name, or the default pool for nil.
    /// - Throws: `entityNotFound` for an unknown pool.
    func imagePool(_ id: String?) async throws -> ImagePool
    /// Creates an empty volume. Throws `operationNotAllowed` when the name is taken.
    func createImageVolume(pool: String, name: String, format: String, capacity: UInt64) async throws -> ImageVolume
    /// Writes the local file at `path` into the volume, byte for byte, counting into `progress`.
    /// Cancelling the task aborts the transfer.
    func upload(file path: String, into volume: ImageVolume, progress: TransferProgress) async throws
    /// The volume `name` of the pool with this id or name. Throws `entityNotFound`.
    func imageVolume(pool: String, name: String) async throws -> ImageVolume
    /// Removes a volume (cleanup after a failure, also in a cancelled task); errors are ignored.
    func removeImageVolume(_ volume: ImageVolume) async
    /// Whether a guest with this name exists.
    func guestExists(name: String) async throws -> Bool
    /// Undefines a guest this import defined (cleanup after a cancel); errors are ignored.
    func removeGuest(name: String) async
    /// The names of the host's networks (defined ones, running or not).
    func networkNames() async throws -> Set<String>
    /// Defines (does not start) a guest.
    func defineGuest(_ domain: NewDomain) async throws -> Guest
}
