/// What a vmango machine may be asked to do after creation.
public enum MachineAction: String, Sendable, CaseIterable {
    case start, stop, reboot
}

/// One provider's overview for the web UI's status page.
public struct ProviderStatus: Sendable, Equatable {
    public var name: String
    public var machines: Int
    public var runningMachines: Int
    /// Host memory in bytes, and what running machines were given.
    public var memoryTotal: UInt64
    public var memoryUsed: UInt64
    /// The root pool's capacity and allocation in bytes.
    public var storageTotal: UInt64
    public var storageUsed: UInt64

    public init(name: String, machines: Int, runningMachines: Int, memoryTotal: UInt64, memoryUsed: UInt64,
                storageTotal: UInt64, storageUsed: UInt64) {
        self.name = name
        self.machines = machines
        self.runningMachines = runningMachines
        self.memoryTotal = memoryTotal
        self.memoryUsed = memoryUsed
        self.storageTotal = storageTotal
        self.storageUsed = storageUsed
    }
}

/// vmango's "providers": the configured `[hypervisor.*]` blocks, each a libvirt connection with an
/// image pool, a root pool and a network. Every method names its provider; an unknown one throws
/// `GuesthouseError.invalidArguments` (`provider "x" not found`).
public protocol MachineProviders: Sendable {
    /// The configured providers' names, sorted.
    var providerNames: [String] { get }
    /// The provider's machines (its ignored ones left out).
    func machines(provider: String) async throws -> [Machine]
    /// One machine by id (32 hex digits, or a UUID, or its name).
    func machine(provider: String, id: String) async throws -> Machine
    /// The provider's images.
    func images(provider: String) async throws -> [MachineImage]
    /// Creates and starts a machine; on failure nothing it made is left behind.
    func create(provider: String, _ request: MachineRequest) async throws -> Machine
    /// Deletes a machine, its volumes (root disk and config drive) and its DHCP host entry.
    func delete(provider: String, id: String) async throws
    /// Starts, stops (forcibly, as vmango did) or reboots a machine.
    func perform(_ action: MachineAction, provider: String, id: String) async throws
    /// The provider's overview.
    func status(provider: String) async throws -> ProviderStatus
}

extension GuesthouseError {
    /// vmango's text for an unknown provider.
    public static func unknownProvider(_ name: String) -> GuesthouseError {
        .invalid("provider \"\(name)\" not found")
    }
}

/// Providers that take uploaded images into their image pools.
public protocol MachineImageUploads: Sendable {
    /// The provider's hypervisor (for image imports) and the name of its image pool.
    /// - Throws: `invalidArguments` for an unknown provider or one without `image_storage_pool`.
    func imageUploadTarget(provider: String) throws -> (volumes: any ImageVolumes, pool: String)
}
