import Foundation

/// What a VLAN network's parent is, which decides how its frames get tagged.
public enum VLANParentKind: String, Sendable, Equatable {
    /// A Linux bridge: the VLAN device sits on the bridge device itself, so tagged frames reach the
    /// trunk through the bridge's ports (the bridge must not filter VLANs).
    case linuxBridge = "linux-bridge"
    /// An Open vSwitch bridge: libvirt tags the guests' ports itself.
    case openvswitch
    /// A NIC, bond, team or veth that is no bridge's port: the VLAN device sits on it.
    case interface
}

/// The host links a VLAN network on a Linux bridge or an interface needs: the VLAN device
/// `<uplink>.<vlan>` and a bridge with it as port, on which libvirt's network is defined.
public struct VLANLinkPlan: Sendable, Equatable {
    /// The libvirt network these links serve.
    public var network: String
    /// The device that carries the tagged frames (the parent bridge or interface).
    public var uplink: String
    public var vlan: Int
    /// The VLAN device, `<uplink>.<vlan>`.
    public var device: String
    /// The bridge guests attach to.
    public var bridge: String

    /// The alias that marks both links as Guesthouse's, for this network.
    public var alias: String { VLANLinks.aliasPrefix + network }

    /// - Throws: `VLANLinkError.invalid` when `<uplink>.<vlan>` is longer than an interface name may be.
    public init(network: String, uplink: String, vlan: Int) throws {
        self.network = network
        self.uplink = uplink
        self.vlan = vlan
        device = "\(uplink).\(vlan)"
        guard device.utf8.count <= VLANLinks.maxNameLength else {
            throw VLANLinkError.unsupportedParent("the VLAN device name \(device) is longer than "
                                                  + "\(VLANLinks.maxNameLength) characters: the uplink's name is too long")
        }
        let short = "ghv\(vlan)-\(uplink)"
        bridge = short.utf8.count <= VLANLinks.maxNameLength ? short : "ghv\(vlan)-\(VLANLinks.digest(uplink))"
    }

    /// The plan of links already made (read back from where they were recorded).
    public init(network: String, uplink: String, vlan: Int, device: String, bridge: String) {
        self.network = network
        self.uplink = uplink
        self.vlan = vlan
        self.device = device
        self.bridge = bridge
    }
}

/// Why a VLAN network's links cannot be made.
public enum VLANLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No link has the parent's name.
    case missingParent(String)
    /// The parent cannot carry tagged frames this way (the message says why).
    case unsupportedParent(String)
    /// A link of the plan exists and is not Guesthouse's for this network: it is never touched.
    case foreignInterface(String, alias: String?)
    /// The kernel cannot make 802.1Q VLAN devices (no `8021q`).
    case noKernelVLANs

    public var description: String {
        switch self {
        case .missingParent(let name): "the host has no interface named '\(name)'"
        case .unsupportedParent(let message): message
        case .foreignInterface(let name, let alias):
            "\(name) exists and was not made by guesthouse for this network"
                + (alias.map { $0.isEmpty ? "" : " (its alias is '\($0)')" } ?? "") + ": it is left alone"
        case .noKernelVLANs:
            "this host's kernel cannot make 802.1Q VLAN devices (no 8021q support): a VLAN on a Linux bridge, NIC "
                + "or bond needs it; use an Open vSwitch bridge as the parent instead"
        }
    }
}

/// Classifies VLAN parents and makes, checks and removes the links of a `VLANLinkPlan` with
/// iproute2 (argument arrays). Every link it makes carries the alias `guesthouse:vlan:<network>`;
/// a link without it is never changed or removed. All methods block: call them from a thread pool.
public struct VLANLinks: Sendable {
    public static let aliasPrefix = "guesthouse:vlan:"
    static let maxNameLength = 15
    /// Kinds of link (iproute2's `info_kind`; nil for a plain NIC) a VLAN device may sit on.
    static let uplinkKinds: Set<String?> = [nil, "bond", "team", "veth"]

    /// The network namespace to work in; nil for the host's.
    public let namespace: String?
    let command: HostCommand

    public init(namespace: String? = nil, command: HostCommand = HostCommand()) {
        self.namespace = namespace
        self.command = command
    }

    var ns: [String] { namespace.map { ["-n", $0] } ?? [] }

    /// What kind of parent `name` is.
    /// - Throws: `VLANLinkError.missingParent` when it does not exist, `.unsupportedParent` naming
    ///   why it cannot carry VLANs (a VLAN-filtering bridge, a bridge's port, a loopback, a tunnel...).
    public func classify(_ name: String) throws -> VLANParentKind {
        guard let link = try command.ipLink(name, namespace: namespace, details: true) else {
            throw VLANLinkError.missingParent(name)
        }
        let info = (link["linkinfo"] as? [String: Any]) ?? [:]
        let kind = info["info_kind"] as? String
        let data = (info["info_data"] as? [String: Any]) ?? [:]
        // An Open vSwitch bridge is an `openvswitch` link (kernel datapath) or a tap (userspace one).
        if kind == "openvswitch" || kind == "tun", (try? HostCommand.locate("ovs-vsctl")) != nil,
           (try? command.run("ovs-vsctl", ["--timeout=5", "br-exists", name])) != nil {
            return .openvswitch
        }
        if kind == "bridge" {
            guard (data["vlan_filtering"] as? Int ?? 0) == 0 else {
                throw VLANLinkError.unsupportedParent("\(name) is a VLAN-filtering Linux bridge (vlan_filtering 1): "
                                                      + "give it the VLAN with `bridge vlan` instead, or use a bridge without filtering")
            }
            return .linuxBridge
        }
        if kind == "openvswitch" {
            throw VLANLinkError.unsupportedParent("\(name) is an Open vSwitch port but not a bridge ovs-vsctl knows")
        }
        guard link["link_type"] as? String == "ether" else {
            throw VLANLinkError.unsupportedParent("\(name) is not an Ethernet interface (\(link["link_type"] ?? "?"))")
        }
        guard Self.uplinkKinds.contains(kind) else {
            throw VLANLinkError.unsupportedParent("\(name) is a \(kind ?? "?") device: a VLAN parent is a Linux bridge, "
                                                  + "an Open vSwitch bridge, a NIC or a bond")
        }
        if let master = link["master"] as? String {
            throw VLANLinkError.unsupportedParent("\(name) is a port of \(master): name \(master) as the parent")
        }
        return .interface
    }

    /// Makes the plan's VLAN device and bridge, or fixes them; running it again changes nothing.
    /// The parent's own state is never changed.
    public func up(_ plan: VLANLinkPlan) throws {
        if let device = try command.ipLink(plan.device, namespace: namespace, details: true) {
            try own(device, plan.device, plan)
            let info = (device["linkinfo"] as? [String: Any]) ?? [:]
            let data = (info["info_data"] as? [String: Any]) ?? [:]
            if info["info_kind"] as? String != "vlan" || data["id"] as? Int != plan.vlan
                || device["link"] as? String != plan.uplink {
                try command.run("ip", ns + ["link", "del", "dev", plan.device])
            }
        }
        if try command.ipLink(plan.device, namespace: namespace) == nil {
            do {
                try command.run("ip", ns + ["link", "add", "link", plan.uplink, "name", plan.device, "type", "vlan",
                                            "id", String(plan.vlan)])
            } catch let error as HostCommandError where error.output.contains("Unknown device type") {
                throw VLANLinkError.noKernelVLANs
            }
            try command.run("ip", ns + ["link", "set", "dev", plan.device, "alias", plan.alias])
        }
        if let bridge = try command.ipLink(plan.bridge, namespace: namespace, details: true) {
            try own(bridge, plan.bridge, plan)
        } else {
            try command.run("ip", ns + ["link", "add", plan.bridge, "type", "bridge", "stp_state", "0"])
            try command.run("ip", ns + ["link", "set", "dev", plan.bridge, "alias", plan.alias])
        }
        try command.run("ip", ns + ["link", "set", "dev", plan.device, "master", plan.bridge])
        try command.run("ip", ns + ["link", "set", "dev", plan.device, "up"])
        try command.run("ip", ns + ["link", "set", "dev", plan.bridge, "up"])
    }

    /// What differs from the plan (empty when the links are all there, Guesthouse's and up).
    public func problems(_ plan: VLANLinkPlan) throws -> [String] {
        var problems: [String] = []
        for name in [plan.device, plan.bridge] {
            guard let link = try command.ipLink(name, namespace: namespace) else {
                problems.append("\(name) is missing")
                continue
            }
            if link["ifalias"] as? String != plan.alias { problems.append("\(name) is not guesthouse's for \(plan.network)") }
            if !((link["flags"] as? [String])?.contains("UP") ?? false) { problems.append("\(name) is down") }
        }
        return problems
    }

    /// Removes the plan's links that carry this network's alias; others are left alone.
    /// - Returns: the names of the links removed.
    @discardableResult
    public func down(_ plan: VLANLinkPlan) throws -> [String] {
        var removed: [String] = []
        for name in [plan.bridge, plan.device] {
            guard let link = try command.ipLink(name, namespace: namespace),
                  link["ifalias"] as? String == plan.alias else { continue }
            try command.run("ip", ns + ["link", "del", "dev", name])
            removed.append(name)
        }
        return removed
    }

    private func own(_ link: [String: Any], _ name: String, _ plan: VLANLinkPlan) throws {
        let alias = link["ifalias"] as? String
        guard alias == plan.alias else { throw VLANLinkError.foreignInterface(name, alias: alias) }
    }

    /// A short, stable name part for an interface name too long to embed (FNV-1a folded to 6 hex
    /// digits, so that `ghv4094-` and it fit in 15 characters).
    static func digest(_ text: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return String((hash >> 24) ^ (hash & 0xff_ffff), radix: 16).leftPadded(to: 6)
    }
}

private extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
