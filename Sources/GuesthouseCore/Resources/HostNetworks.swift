/// A hypervisor network.
public struct HostNetwork: Sendable, Equatable {
    public var name: String
    public var uuid: String
    public var bridge: String?
    public var forwardMode: String?
    public var vlan: Int?
    public var active: Bool
    public var description: String?

    public init(name: String, uuid: String, bridge: String?, forwardMode: String?, vlan: Int?, active: Bool,
                description: String?) {
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
    /// A libvirt network (its bridge is used) or a host interface.
    public var fromNetwork: String
    public var vlan: Int
    public var otherConfig: [String: String]
    public init(name: String, description: String?, fromNetwork: String, vlan: Int, otherConfig: [String: String] = [:]) {
        self.name = name
        self.description = description
        self.fromNetwork = fromNetwork
        self.vlan = vlan
        self.otherConfig = otherConfig
    }
}

/// Networks of a host.
public protocol HostNetworks: Sendable {
    func networks() async throws -> [HostNetwork]
    func network(name: String) async throws -> HostNetwork
    /// Defines (does not start) a VLAN network.
    func createVLANNetwork(_ spec: VLANNetworkSpec) async throws -> HostNetwork
}
