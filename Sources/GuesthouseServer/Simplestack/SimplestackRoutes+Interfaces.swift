import Foundation
import GuesthouseCore
import Hummingbird

extension SimplestackRoutes {
    func registerInterfaces(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix + "/guests/{guest_id}/network_interfaces"
        let errors = [403, 404, 501, 502]
        api.add(Operation(.get, p, id: "interfaceList", summary: "The guest's network interfaces", tag: "simplestack",
                          success: (200, .array(.ref("NetworkInterface"))), errors: errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestInterfaces).self, operation: "network interfaces")
            return JSONResponse.make(try await hv.interfaces(guestID: try guestID(context)).map(SimplestackNIC.init))
        }
        api.add(Operation(.post, p, id: "interfaceCreate", summary: "Attach an interface on a network",
                          tag: "simplestack",
                          body: JSONObject.schema(["network": .name(),
                                                   "mac": .text(description: "default: 52:54:00:xx:xx:xx",
                                                                pattern: Validation.unicastMACPattern)],
                                                  required: ["network"]),
                          success: (201, .ref("NetworkInterface")), errors: [400, 409] + errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestInterfaces).self, operation: "network interfaces")
            let o = try await JSONObject.read(request)
            let id = try guestID(context)
            let nic = try await hv.createInterface(guestID: id, network: try o.string("network", required: true)!,
                                                   mac: try o.string("mac"))
            return JSONResponse.make(SimplestackNIC(nic), status: .created,
                                     location: "\(base(context))/guests/\(id)/network_interfaces/\(nic.mac)")
        }
        api.add(Operation(.get, p + "/{interface_id}", id: "interfaceInfo", summary: "One interface (by MAC)",
                          tag: "simplestack", success: (200, .ref("NetworkInterface")), errors: [400] + errors, etag: true,
                          parameters: ["interface_id": Self.macSchema])) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestInterfaces).self, operation: "network interfaces")
            return JSONResponse.make(SimplestackNIC(
                try await hv.interface(guestID: try guestID(context), mac: try parameter("interface_id", context))),
                etag: true)
        }
        api.add(Operation(.put, p + "/{interface_id}", id: "interfaceUpdate",
                          summary: "Change the network, the link state or the rate limit", tag: "simplestack",
                          body: JSONObject.schema([
                              "network": .name(), "link_state": .string(enumeration: ["up", "down"]),
                              "link": .boolean(description: "true: up (when link_state is absent)"),
                              "ratelimit": .anyOf([.bounded(Validation.rateLimitBytes, description: "bytes/s"),
                                                   .constant(false)])]),
                          success: (200, .ref("NetworkInterface")), errors: [400, 409] + errors, ifMatch: true,
                          parameters: ["interface_id": Self.macSchema])) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestInterfaces).self, operation: "network interfaces")
            let update = try SimplestackRequests.nicUpdate(try await JSONObject.read(request))
            try await checkInterfaceIfMatch(request, context, hv)
            let nic = try await hv.updateInterface(guestID: try guestID(context),
                                                   mac: try parameter("interface_id", context), update)
            return JSONResponse.make(SimplestackNIC(nic))
        }
        api.add(Operation(.delete, p + "/{interface_id}", id: "interfaceDelete", summary: "Detach an interface",
                          tag: "simplestack", success: (204, nil), errors: [400, 409] + errors, ifMatch: true,
                          parameters: ["interface_id": Self.macSchema])) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestInterfaces).self, operation: "network interfaces")
            try await checkInterfaceIfMatch(request, context, hv)
            try await hv.deleteInterface(guestID: try guestID(context), mac: try parameter("interface_id", context))
            return Response(status: .noContent)
        }
    }
}

extension SimplestackRoutes {
    /// Checks `If-Match` against the interface the path names, as its GET renders it.
    func checkInterfaceIfMatch(_ request: Request, _ context: GuesthouseContext, _ hv: any GuestInterfaces) async throws {
        let guest = try guestID(context)
        let mac = try parameter("interface_id", context)
        try await IfMatch.check(request, "interface \(mac) of guest '\(guest)'") {
            JSONResponse.body(SimplestackNIC(try await hv.interface(guestID: guest, mac: mac)))
        }
    }
}

extension SimplestackRoutes {
    /// A MAC address, as the handlers that change an interface parse its path parameter.
    static let macSchema = Schema.text(description: "the interface's MAC", pattern: Validation.macPattern)
}

extension SimplestackRequests {
    /// `PUT .../network_interfaces/{mac}`: `network`, `link_state` ("up"/"down") or `link` (bool),
    /// `ratelimit` (bytes/s, or false/null to remove).
    static func nicUpdate(_ o: JSONObject) throws -> NICUpdate {
        var update = NICUpdate(network: try o.string("network"))
        if let state = try o.string("link_state") {
            guard state == "up" || state == "down" else { throw GuesthouseError.invalid("\"link_state\" must be up or down") }
            update.linkUp = state == "up"
        } else if let link = try o.bool("link") {
            update.linkUp = link
        }
        switch o.fields["ratelimit"] {
        case nil: break
        case .null?, .bool(false)?: update.rateLimitBytes = .some(nil)
        default:
            guard let rate = try? o.int("ratelimit"), rate > 0 else {
                throw GuesthouseError.invalid("\"ratelimit\" must be a positive number of bytes/s, or false")
            }
            update.rateLimitBytes = .some(rate)
        }
        return update
    }
}

/// `{id (MAC), number, mac, network, locking_mode, ipv4_allowed, ipv6_allowed, rate_limit}`
struct SimplestackNIC: Encodable {
    var nic: GuestNIC

    init(_ nic: GuestNIC) { self.nic = nic }

    enum Keys: String, CodingKey {
        case id, number, mac, network, locking_mode, ipv4_allowed, ipv6_allowed, rate_limit, link_state, model
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(nic.mac, forKey: .id)
        try c.encode(nic.number, forKey: .number)
        try c.encode(nic.mac, forKey: .mac)
        try c.encode(nic.network, forKey: .network)
        try c.encode("network_default", forKey: .locking_mode)
        try c.encode([String](), forKey: .ipv4_allowed)
        try c.encode([String](), forKey: .ipv6_allowed)
        try c.encode(nic.rateLimitBytes, forKey: .rate_limit)
        try c.encode(nic.linkUp ? "up" : "down", forKey: .link_state)
        try c.encode(nic.model, forKey: .model)
    }

    static let schema = Schema.object([
        "id": .string(description: "the MAC"), "number": .integer(), "mac": .string(),
        "network": .nullable(.string()), "locking_mode": .string(),
        "ipv4_allowed": .array(.string()), "ipv6_allowed": .array(.string()),
        "rate_limit": .nullable(.integer(description: "bytes/s")), "link_state": .string(enumeration: ["up", "down"]),
        "model": .nullable(.string()),
    ], required: ["id", "number", "mac", "network", "locking_mode", "ipv4_allowed", "ipv6_allowed", "rate_limit"])
}
