/// A hypervisor network.
public struct HostNetwork: Sendable, Equatable {
    public var name: String
    public var uuid: String
    public var bridge: String?
    public var forwardMode: String?
    public var vlan: Int?
    public var active: Bool
    public var description: String?
    /// For a VLAN network: the bridge or interface its tagged frames leave by.
    public var parent: String?
    /// For a VLAN network: `linux-bridge`, `openvswitch` or `interface`.
    public var parentKind: String?

    public init(name: String, uuid: String, bridge: String?, forwardMode: String?, vlan: Int?, active: Bool,
                description: String?, parent: String? = nil, parentKind: String? = nil) {
        self.parent = parent
        self.parentKind = parentKind
        self.name = name
        self.uuid = uuid
        self.bridge = bridge
        self.forwardMode = forwardMode
        self.vlan = vlan
        self.active = active
        self.description = description
    }
}

/// A tagged VLAN network on top of a parent network's bridge or a host interface.
public struct VLANNetworkSpec: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// A libvirt network (its bridge is the parent) or, failing that, a host interface.
    public var fromNetwork: String?
    /// A host interface named directly as the parent (a bridge, NIC or bond); exclusive with `fromNetwork`.
    public var interface: String?
    public var vlan: Int
    public var otherConfig: [String: String]
    public init(name: String, description: String?, fromNetwork: String?, interface: String? = nil, vlan: Int,
                otherConfig: [String: String] = [:]) {
        self.name = name
        self.description = description
        self.fromNetwork = fromNetwork
        self.interface = interface
        self.vlan = vlan
        self.otherConfig = otherConfig
    }
}

/// Networks of a host.
public protocol HostNetworks: Sendable {
    func networks() async throws -> [HostNetwork]
    func network(name: String) async throws -> HostNetwork
    /// Makes a VLAN network that carries tagged frames on its parent, started and set to autostart.
    func createVLANNetwork(_ spec: VLANNetworkSpec) async throws -> HostNetwork
    /// Removes a network and the host links Guesthouse made for it; a network in use is a conflict.
    func deleteNetwork(name: String) async throws
}
