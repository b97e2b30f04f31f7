/// One hypervisor host, as every API of Guesthouse sees it. The libvirt driver implements it;
/// the HTTP layer depends only on this protocol. Every method may throw `GuesthouseError`.
public protocol Hypervisor: Sendable {
    /// Memory, identity and software of the host.
    func poolInfo() async throws -> PoolInfo
    /// The physical hosts behind this endpoint (one for libvirt).
    func hosts() async throws -> [HostInfo]
    /// The storage pools.
    func storages() async throws -> [Storage]
    /// The storage pool with this id (UUID) or name.
    func storage(id: String) async throws -> Storage
    /// Every guest.
    func guests() async throws -> [Guest]
    /// The guest with this id (UUID) or name. Throws `entityNotFound` when there is none.
    func guest(id: String) async throws -> Guest
    /// Defines a new guest (stopped). Nothing is left behind when it fails.
    func createGuest(_ spec: GuestSpec) async throws -> Guest
    /// Applies `update` to the guest's definition and returns the guest as it now reads.
    func updateGuest(id: String, _ update: GuestUpdate) async throws -> Guest
    /// Stops (if needed) and removes the guest's definition.
    func deleteGuest(id: String) async throws
    /// Changes the guest's power state; a change that does not apply is `operationNotAllowed`.
    /// `stop` returns once the guest is off: when it is still running after `stopTimeout` seconds
    /// (nil: the server's default) it throws `operationNotAllowed` naming the timeout and `force_stop`.
    func power(id: String, _ action: PowerAction, stopTimeout: Double?) async throws
    /// Reboots the guest: gracefully, or at once with `force`.
    func reboot(id: String, force: Bool) async throws
}

extension Hypervisor {
    /// Changes the guest's power state; `stop` waits the server's default stop timeout.
    public func power(id: String, _ action: PowerAction) async throws {
        try await power(id: id, action, stopTimeout: nil)
    }
}

/// Finds the hypervisor that a Simplestack path (`/{family}/{host}`) names.
public protocol HypervisorDirectory: Sendable {
    /// Says how requests for this family and host authenticate, or throws `entityNotFound` (unknown
    /// family) or `forbidden` (a host that may not be reached).
    func target(family: String, host: String) throws -> HypervisorTarget
    /// The hypervisor for an authenticated request. `credentials` are passed on when the target
    /// checks them itself.
    func hypervisor(for target: HypervisorTarget, credentials: Credentials?) async throws -> any Hypervisor
    /// Every family name a path may use (aliases included), for the OpenAPI document; empty when
    /// the directory does not list them.
    var familyNames: [String] { get }
}

extension HypervisorDirectory {
    public var familyNames: [String] { [] }
}

/// A resolved Simplestack endpoint.
public struct HypervisorTarget: Sendable, Hashable {
    /// The family's canonical name, e.g. "kvm".
    public var family: String
    /// The host as the path named it.
    public var host: String
    /// The libvirt URI.
    public var uri: String
    /// True when the hypervisor itself checks the credentials (remote SASL, ESX, Hyper-V);
    /// otherwise the server checks them against its own users before any call reaches it.
    public var hypervisorChecksCredentials: Bool

    public init(family: String, host: String, uri: String, hypervisorChecksCredentials: Bool) {
        self.family = family
        self.host = host
        self.uri = uri
        self.hypervisorChecksCredentials = hypervisorChecksCredentials
    }
}

/// A user name and password, as they arrived (token, Basic or headers).
public struct Credentials: Sendable, Hashable {
    public var username: String
    public var password: String
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}
