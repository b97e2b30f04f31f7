import Foundation
import GuesthouseCore
import Libvirt

/// Networks. A VLAN network is defined (never started here) on the parent network's bridge as an
/// Open vSwitch port group tagged with the VLAN (libvirt tags VLANs only on Open vSwitch bridges),
/// or on a host interface in passthrough mode (macvtap). None of them forwards with NAT.
extension LibvirtHypervisor: HostNetworks {
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
        try Validation.name(spec.fromNetwork, field: "from_network")
        try Validation.range(spec.vlan, 1...4094, field: "vlan")
        return try await withConnection("VLAN network create") { conn in
            if (try? conn.network(name: spec.name)) != nil {
                throw GuesthouseError.conflict("a network named '\(spec.name)' already exists")
            }
            let forward: String
            if let parent = try? conn.network(name: spec.fromNetwork) {
                let tree = try XMLTree.parse(parent.xml())
                guard let bridge = tree.child("bridge")?["name"] else {
                    throw GuesthouseError.invalid("network '\(spec.fromNetwork)' has no bridge to tag VLANs on")
                }
                forward = "<forward mode='bridge'/><bridge name='\(xmlEscape(bridge))'/><virtualport type='openvswitch'/>"
            } else if spec.otherConfig["type"] == "interface" || Self.isPhysicalInterface(spec.fromNetwork) {
                forward = "<forward mode='passthrough'><interface dev='\(xmlEscape(spec.fromNetwork))'/></forward>"
            } else if spec.otherConfig["type"] == "bridge" || FileManager.default.fileExists(atPath: "/sys/class/net/\(spec.fromNetwork)") {
                forward = "<forward mode='bridge'/><bridge name='\(xmlEscape(spec.fromNetwork))'/><virtualport type='openvswitch'/>"
            } else {
                throw GuesthouseError.notFound("'\(spec.fromNetwork)' is neither a network nor a host interface")
            }
            let xml = "<network><name>\(xmlEscape(spec.name))</name>\(forward)<vlan><tag id='\(spec.vlan)'/></vlan></network>"
            var network = try Self.networkValue(conn.defineNetwork(xml: xml))
            network.description = spec.description
            return network
        }
    }

    static func isPhysicalInterface(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/sys/class/net/\(name)/device")
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
        let vlan = tree.child("vlan")?.child("tag")?["id"].flatMap { Int($0) }
        return HostNetwork(name: network.name, uuid: network.uuid, bridge: tree.child("bridge")?["name"],
                           forwardMode: tree.child("forward")?["mode"] ?? (tree.child("forward") != nil ? "nat" : nil),
                           vlan: vlan, active: (try? network.isActive()) ?? false,
                           description: tree.child("description")?.trimmedText)
    }
}
