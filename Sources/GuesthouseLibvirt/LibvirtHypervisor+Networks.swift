import Foundation
import GuesthouseCore
import GuesthouseOverlay
import Libvirt

/// Networks. A VLAN network carries its guests' frames tagged on a parent the host really has:
/// on an Open vSwitch bridge libvirt tags the ports (`<virtualport type='openvswitch'/>` and
/// `<vlan>`); on a Linux bridge, NIC or bond Guesthouse makes a VLAN device `<uplink>.<vlan>` and a
/// bridge for it (`VLANLinks`) and defines the network in bridge mode on that bridge. What was made
/// is recorded in the network's metadata, so `serve` can re-apply the links and delete remove them.
extension LibvirtHypervisor: HostNetworks {
    static let vlanNamespace = "http://guesthouse.dev/schema/1/vlan"

    public func networks() async throws -> [HostNetwork] {
        try await withConnection("network list") { conn in
            try conn.allNetworks().map(Self.networkValue).sorted { $0.name < $1.name }
        }
    }

    public func network(name: String) async throws -> HostNetwork {
        try await withConnection("network info") { conn in
            try Self.networkValue(Self.lookupNetwork(conn, name: name))
        }
    }

    public func createVLANNetwork(_ spec: VLANNetworkSpec) async throws -> HostNetwork {
        try Validation.name(spec.name)
        try Validation.range(spec.vlan, Validation.vlan, field: "vlan")
        let parent: (name: String, field: String)
        switch (spec.fromNetwork, spec.interface) {
        case (let network?, nil): parent = (network, "from_network")
        case (nil, let interface?): parent = (interface, "interface")
        default: throw GuesthouseError.invalid("give the parent as exactly one of \"from_network\" or \"interface\"")
        }
        try Validation.name(parent.name, field: parent.field)
        guard hostLinksAreLocal else {
            throw GuesthouseError.notImplemented("VLAN networks are made on this server's own host; \(uri) is not local")
        }
        let links = VLANLinks()
        return try await withConnection("VLAN network create") { conn in
            // One create or delete of a name at a time: a losing create's clean-up never removes
            // the links of the one that won (both would carry the same alias).
            try locks.networks.withLock(Self.vlanLockKey(spec.name)) {
                if (try? conn.network(name: spec.name)) != nil {
                    throw GuesthouseError.conflict("a network named '\(spec.name)' already exists")
                }
                let device = try Self.parentDevice(conn, named: parent.name, field: parent.field)
                return try Self.makeVLAN(conn, spec, parent: device, links: links)
            }
        }
    }

    static func vlanLockKey(_ name: String) -> String { "vlan-network:\(name)" }

    /// Makes the links (unless the parent is an OVS bridge), defines, starts and autostarts the
    /// network; on any failure removes what it made.
    static func makeVLAN(_ conn: Connection, _ spec: VLANNetworkSpec, parent: String, links: VLANLinks) throws -> HostNetwork {
        let kind = try mapLinkErrors { try links.classify(parent) }
        var plan: VLANLinkPlan?
        if kind != .openvswitch {
            let p = try mapLinkErrors { try VLANLinkPlan(network: spec.name, uplink: parent, vlan: spec.vlan) }
            if let owner = try networkOnBridge(conn, p.bridge) {
                throw GuesthouseError.conflict("network '\(owner)' already carries VLAN \(spec.vlan) on \(parent)")
            }
            plan = p
        }
        let xml = vlanNetworkXML(spec, parent: parent, kind: kind, plan: plan)
        do {
            if let plan { try mapLinkErrors { try links.up(plan) } }
            let network = try conn.defineNetwork(xml: xml)
            do {
                try network.start()
                try network.setAutostart(true)
            } catch {
                try? network.destroy()
                try? network.undefine()
                throw error
            }
            return try networkValue(network)
        } catch {
            if let plan { _ = try? links.down(plan) }
            throw error
        }
    }

    public func deleteNetwork(name: String) async throws {
        try Validation.name(name)
        let links = VLANLinks()
        try await withConnection("network delete") { conn in
            try locks.networks.withLock(Self.vlanLockKey(name)) {
                let network = try Self.lookupNetwork(conn, name: name)
                // Drivers without the inactive flag (the test driver) give the live definition.
                let tree = try XMLTree.parse((try? network.xml(inactive: true)) ?? network.xml())
                guard Self.vlanRecord(tree) != nil else {
                    throw GuesthouseError.conflict("network '\(name)' was not made by guesthouse: it is left alone")
                }
                let users = Self.usersOf(conn, network: network)
                guard users.isEmpty else {
                    throw GuesthouseError.conflict("network '\(name)' is used by \(users.joined(separator: ", ")): "
                                                   + "remove their interfaces first")
                }
                if try network.isActive() { try network.destroy() }
                try network.undefine()
                if let plan = try Self.vlanPlan(tree) { try Self.mapLinkErrors { _ = try links.down(plan) } }
            }
        }
    }

    /// Makes again the host links of every VLAN network Guesthouse made here (after a reboot they
    /// are gone) and starts every Guesthouse VLAN network that is not running. Used by `serve` at start.
    /// - Returns: the networks re-applied, and one message per network that failed.
    public func reapplyVLANLinks() async throws -> (applied: [String], failures: [String]) {
        guard hostLinksAreLocal else { return ([], []) }
        let links = VLANLinks()
        return try await withConnection("VLAN links re-apply") { conn in
            var applied: [String] = [], failures: [String] = []
            for network in try conn.allNetworks() {
                guard let tree = try? XMLTree.parse(network.xml(inactive: true)), Self.vlanRecord(tree) != nil else { continue }
                do {
                    if let plan = try Self.vlanPlan(tree) { try links.up(plan) }
                    if try !network.isActive() { try network.start() }
                    applied.append(network.name)
                } catch {
                    failures.append("\(network.name): \(error)")
                }
            }
            return (applied, failures)
        }
    }

    /// Whether host links made here are the hypervisor's (a local `qemu`, `lxc` or `xen` URI).
    var hostLinksAreLocal: Bool {
        guard let url = URL(string: uri), let scheme = url.scheme else { return false }
        return ["qemu", "lxc", "xen"].contains(scheme) && (url.host ?? "").isEmpty
    }

    /// The host device a VLAN network's parent names: a libvirt network's bridge, or an interface.
    static func parentDevice(_ conn: Connection, named name: String, field: String) throws -> String {
        if field == "from_network", let network = try? conn.network(name: name) {
            guard let bridge = try XMLTree.parse(network.xml()).child("bridge")?["name"] else {
                throw GuesthouseError.invalid("network '\(name)' has no bridge to carry VLANs")
            }
            guard FileManager.default.fileExists(atPath: "/sys/class/net/\(bridge)") else {
                throw GuesthouseError.conflict("network '\(name)' is not running (its bridge \(bridge) does not exist): start it first")
            }
            return bridge
        }
        guard FileManager.default.fileExists(atPath: "/sys/class/net/\(name)") else {
            throw GuesthouseError.notFound(field == "from_network"
                ? "'\(name)' is neither a network nor a host interface"
                : "the host has no interface named '\(name)'")
        }
        return name
    }

    static func vlanNetworkXML(_ spec: VLANNetworkSpec, parent: String, kind: VLANParentKind, plan: VLANLinkPlan?) -> String {
        var record = "<gh:vlan xmlns:gh='\(vlanNamespace)' vlan='\(spec.vlan)' parent='\(xmlEscape(parent))'"
            + " kind='\(kind.rawValue)'"
        if let plan {
            record += " uplink='\(xmlEscape(plan.uplink))' device='\(xmlEscape(plan.device))' bridge='\(xmlEscape(plan.bridge))'"
        }
        if let description = spec.description { record += " description='\(xmlEscape(description))'" }
        record += "/>"
        var xml = "<network><name>\(xmlEscape(spec.name))</name><metadata>\(record)</metadata><forward mode='bridge'/>"
        if let plan {
            xml += "<bridge name='\(xmlEscape(plan.bridge))'/>"
        } else {
            xml += "<bridge name='\(xmlEscape(parent))'/><virtualport type='openvswitch'/><vlan><tag id='\(spec.vlan)'/></vlan>"
        }
        return xml + "</network>"
    }

    /// Guesthouse's record of a VLAN network, from the network's metadata.
    static func vlanRecord(_ tree: XMLTree) -> XMLTree? {
        tree.child("metadata")?.children.first { $0.attributes.values.contains(vlanNamespace) }
    }

    /// The links Guesthouse made for a VLAN network, or nil for any other network.
    static func vlanPlan(_ tree: XMLTree) throws -> VLANLinkPlan? {
        guard let name = tree.child("name")?.trimmedText, let record = vlanRecord(tree),
              let uplink = record["uplink"], let device = record["device"], let bridge = record["bridge"],
              let vlan = record["vlan"].flatMap({ Int($0) }) else { return nil }
        return VLANLinkPlan(network: name, uplink: uplink, vlan: vlan, device: device, bridge: bridge)
    }

    /// The network whose bridge is `bridge`, if any.
    static func networkOnBridge(_ conn: Connection, _ bridge: String) throws -> String? {
        try conn.allNetworks().first { (try? XMLTree.parse($0.xml()).child("bridge")?["name"]) == bridge }?.name
    }

    /// Who uses a network: its live connections (guests of any driver) and this connection's
    /// guests, running or not, with an interface on it.
    static func usersOf(_ conn: Connection, network: Network) -> [String] {
        var users: [String] = []
        if let live = try? XMLTree.parse(network.xml()), let count = live["connections"].flatMap({ Int($0) }), count > 0 {
            users.append("\(count) running interface\(count == 1 ? "" : "s")")
        }
        for domain in (try? conn.allDomains()) ?? [] {
            let definitions = [try? domain.xml(inactive: true), (try? domain.isActive()) == true ? try? domain.xml() : nil]
            let onIt = definitions.compactMap { $0 }.contains { xml in
                guard let tree = try? XMLTree.parse(xml) else { return false }
                return tree.child("devices")?.children("interface").contains {
                    $0["type"] == "network" && $0.child("source")?["network"] == network.name
                } ?? false
            }
            if onIt { users.append("guest '\(domain.name)'") }
        }
        return users
    }

    static func mapLinkErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as VLANLinkError {
            switch error {
            case .missingParent: throw GuesthouseError.notFound(error.description)
            case .unsupportedParent: throw GuesthouseError.invalid(error.description)
            case .foreignInterface: throw GuesthouseError.conflict(error.description)
            case .noKernelVLANs: throw GuesthouseError.notImplemented(error.description)
            }
        } catch let error as HostCommandError {
            throw GuesthouseError.hypervisor("host links: \(error)")
        }
    }

    static func lookupNetwork(_ conn: Connection, name: String) throws -> Network {
        do {
            return try conn.network(name: name)
        } catch let error as LibvirtError where error.kind == .notFound || error.kind == .invalidArgument {
            throw GuesthouseError.notFound("network '\(name)' not found")
        }
    }

    static func networkValue(_ network: Network) throws -> HostNetwork {
        let tree = try XMLTree.parse(network.xml())
        let record = vlanRecord(tree)
        let vlan = (tree.child("vlan")?.child("tag")?["id"] ?? record?["vlan"]).flatMap { Int($0) }
        return HostNetwork(name: network.name, uuid: network.uuid, bridge: tree.child("bridge")?["name"],
                           forwardMode: tree.child("forward")?["mode"] ?? (tree.child("forward") != nil ? "nat" : nil),
                           vlan: vlan, active: (try? network.isActive()) ?? false,
                           description: tree.child("description")?.trimmedText ?? record?["description"],
                           parent: record?["parent"], parentKind: record?["kind"])
    }
}
