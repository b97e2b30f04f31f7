/// A container of creepy-meow's API: a libvirt-LXC domain named `container<id>` whose eth0 sits on
/// the bridge of one VNI with a fixed address.
public struct Container: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case running = "RUNNING", stopped = "STOPPED", paused = "FROZEN", other = "UNKNOWN"

        /// creepy-meow's state for a power state (the one `GuestState` every API derives from).
        public init(_ state: GuestState) {
            switch state {
            case .started: self = .running
            case .stopped: self = .stopped
            case .paused: self = .paused
            }
        }
    }

    public var id: Int
    public var name: String
    public var state: State
    /// The VNI (creepy-meow's "vlan") its eth0 is on, when it is on one of ours.
    public var vlan: Int?
    /// eth0's address with its prefix, e.g. `192.168.2.5/24`.
    public var ip: String?
    public var gateway: String?
    public var mac: String?
    public var bridge: String?
    public var mtu: Int?
    /// Memory in use and the limit, in bytes (nil when not running).
    public var memoryBytes: UInt64?
    public var memoryLimitBytes: UInt64
    /// CPU time used since start, in seconds (nil when not running).
    public var cpuSeconds: Double?
    /// The server user who created it (its metadata's `creator`); nil for containers made before
    /// creators were recorded or by other tools.
    public var creator: String?

    public init(id: Int, name: String, state: State, memoryLimitBytes: UInt64) {
        self.id = id
        self.name = name
        self.state = state
        self.memoryLimitBytes = memoryLimitBytes
    }
}

/// What a create asks for, already validated by the caller.
public struct ContainerSpec: Sendable, Equatable {
    public var id: Int
    /// `a.b.c.d/prefix`
    public var ip: String
    public var vlan: Int
    /// The server user creating it, recorded in its metadata.
    public var creator: String?

    public init(id: Int, ip: String, vlan: Int, creator: String? = nil) {
        self.id = id
        self.ip = ip
        self.vlan = vlan
        self.creator = creator
    }
}

/// Containers on one host. Errors are `GuesthouseError`s: `.invalid` (400, a field),
/// `.conflict` (409, the id is in use or the state forbids it), `.notFound` (404).
public protocol ContainerService: Sendable {
    /// The VNIs a container may join.
    var vnis: [Int] { get }
    /// Creates and starts a container; a failure leaves nothing behind.
    func create(_ spec: ContainerSpec) async throws -> Container
    /// The ids of the running containers, ascending.
    func runningIDs() async throws -> [Int]
    func container(id: Int) async throws -> Container
    func start(id: Int) async throws
    /// Stops a container (gracefully, then by force after a while).
    func stop(id: Int) async throws
    /// Stops and removes a container with its layer.
    func delete(id: Int) async throws
    /// What the container wrote on its console.
    func consoleLog(id: Int) async throws -> String
}
