import Foundation
import GuesthouseCore
import Hummingbird

extension SimplestackRoutes {
    func registerNetworks(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix + "/networks"
        let errors = [403, 404, 501, 502]
        api.add(Operation(.get, p, id: "networkList", summary: "The host's networks", tag: "simplestack",
                          success: (200, .array(.ref("Network"))), errors: errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any HostNetworks).self, operation: "networks")
            return JSONResponse.make(try await hv.networks().map(SimplestackNetwork.init))
        }
        api.add(Operation(.get, p + "/{network_id}", id: "networkInfo", summary: "One network (by name)",
                          tag: "simplestack", success: (200, .ref("Network")), errors: errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any HostNetworks).self, operation: "networks")
            return JSONResponse.make(SimplestackNetwork(try await hv.network(name: try parameter("network_id", context))))
        }
        api.add(Operation(.post, p, id: "networkCreate",
                          summary: "Make a VLAN network whose guests' frames leave tagged on a parent bridge or interface; "
                              + "started and set to autostart",
                          tag: "simplestack",
                          body: SimplestackRequests.vlanNetworkSchema,
                          success: (201, .ref("Network")), errors: [400, 409] + errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any HostNetworks).self, operation: "networks")
            let spec = try SimplestackRequests.vlanNetwork(try await JSONObject.read(request))
            let network = try await hv.createVLANNetwork(spec)
            return JSONResponse.make(SimplestackNetwork(network), status: .created,
                                     location: "\(base(context))/networks/\(Self.pathEscape(network.name))")
        }
        api.add(Operation(.delete, p + "/{network_id}", id: "networkDelete",
                          summary: "Remove a VLAN network Guesthouse made and its host links (409 while guests use it, or for a network Guesthouse did not make)",
                          tag: "simplestack", success: (204, nil), errors: [400, 409] + errors,
                          parameters: ["network_id": .name()])) { request, context in
            let hv = try await hypervisor(request, context, as: (any HostNetworks).self, operation: "networks")
            try await hv.deleteNetwork(name: try parameter("network_id", context))
            return Response(status: .noContent)
        }
    }
}

extension SimplestackRequests {
    /// Exactly one parent: `from_network` or `interface` (a null one is absent).
    static let vlanNetworkSchema = Schema.allOf([
        JSONObject.schema([
            "name": .name(), "description": .string(),
            "from_network": .name(description: "a libvirt network (its bridge is the parent) or a host interface; "
                                      + "exclusive with interface"),
            "interface": .name(description: "a host Linux bridge, Open vSwitch bridge, NIC or bond"),
            "vlan": .bounded(Validation.vlan), "other_config": .map(.anyOf([.string(), .number(), .boolean()])),
        ], required: ["name", "vlan"]),
        .oneOf([.object(["from_network": .string()], required: ["from_network"]),
                .object(["interface": .string()], required: ["interface"])]),
    ])

    static func vlanNetwork(_ o: JSONObject) throws -> VLANNetworkSpec {
        var other: [String: String] = [:]
        switch o.fields["other_config"] {
        case nil, .null?: break
        case .object(let fields)?:
            for (key, value) in fields {
                switch value {
                case .string(let s): other[key] = s
                case .number(let n): other[key] = String(n)
                case .bool(let b): other[key] = String(b)
                default: throw GuesthouseError.invalid("\"other_config\" values must be strings")
                }
            }
        default: throw GuesthouseError.invalid("\"other_config\" must be an object")
        }
        return VLANNetworkSpec(name: try o.string("name", required: true)!, description: try o.string("description"),
                               fromNetwork: try o.string("from_network"), interface: try o.string("interface"),
                               vlan: try o.int("vlan", required: true)!, otherConfig: other)
    }
}

/// `{id, name, uuid, bridge, forward_mode, vlan, active, description, parent, parent_kind}`; `id` is the name.
struct SimplestackNetwork: Encodable {
    var network: HostNetwork

    init(_ network: HostNetwork) { self.network = network }

    enum Keys: String, CodingKey { case id, name, uuid, bridge, forward_mode, vlan, active, description, parent, parent_kind }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(network.name, forKey: .id)
        try c.encode(network.name, forKey: .name)
        try c.encode(network.uuid, forKey: .uuid)
        try c.encode(network.bridge, forKey: .bridge)
        try c.encode(network.forwardMode, forKey: .forward_mode)
        try c.encode(network.vlan, forKey: .vlan)
        try c.encode(network.active, forKey: .active)
        try c.encode(network.description, forKey: .description)
        try c.encode(network.parent, forKey: .parent)
        try c.encode(network.parentKind, forKey: .parent_kind)
    }

    static let schema = Schema.object([
        "id": .string(description: "the network's name"), "name": .string(), "uuid": .string(),
        "bridge": .nullable(.string()), "forward_mode": .nullable(.string()), "vlan": .nullable(.integer()),
        "active": .boolean(), "description": .nullable(.string()),
        "parent": .nullable(.string(description: "a VLAN network's parent bridge or interface")),
        "parent_kind": .nullable(.string(description: "linux-bridge, openvswitch or interface")),
    ], required: ["id", "name", "uuid"])
}
