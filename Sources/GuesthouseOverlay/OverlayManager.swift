import Foundation
import GuesthouseConfig
import GuesthouseCore

/// Sets up, checks and removes this server's VXLAN overlay with iproute2 (`ip`, `bridge`), always
/// with argument arrays. Every interface it makes carries the alias `guesthouse-overlay`; an
/// interface of the same name without it is never modified or removed.
/// All methods block (they run host programs): call them from a thread pool.
public struct OverlayManager: Sendable {
    /// The alias that marks interfaces made by Guesthouse.
    public static let alias = "guesthouse-overlay"
    static let floodMAC = "00:00:00:00:00:00"

    public let config: OverlayConfig
    /// The network namespace to work in (a simulated server in tests); nil for the host's.
    public let namespace: String?
    let command: HostCommand

    public init(config: OverlayConfig, namespace: String? = nil, command: HostCommand = HostCommand()) {
        self.config = config
        self.namespace = namespace
        self.command = command
    }

    /// Plans the overlay against the underlay's real MTU.
    /// - Throws: `OverlayError.noUnderlay`, `.missingUnderlay`, `.invalid`.
    public func plan() throws -> OverlayPlan {
        guard let underlay = config.underlay else { throw OverlayError.noUnderlay }
        guard let link = try link(underlay) else { throw OverlayError.missingUnderlay(underlay) }
        return try OverlayPlan(config, underlayMTU: link["mtu"] as? Int)
    }

    /// Makes the overlay match the plan; running it again changes nothing. Devices of ours whose
    /// parameters differ are remade; addresses and flood entries are made to match exactly.
    /// - Returns: the plan applied (with its warnings) and the resulting status.
    @discardableResult
    public func up() throws -> (plan: OverlayPlan, status: [SegmentStatus]) {
        let plan = try plan()
        try command.run("ip", ns + ["link", "set", "dev", plan.underlay, "up"])
        for segment in plan.segments {
            try ensureDevice(segment, plan: plan)
            try ensureBridge(segment, plan: plan)
            try ensureFlooding(segment)
            try ensureAddress(segment)
        }
        return (plan, try status(plan))
    }

    /// Removes the overlay's devices and bridges (only those Guesthouse made).
    /// - Returns: the names of the interfaces removed.
    @discardableResult
    public func down() throws -> [String] {
        var removed: [String] = []
        for segment in try OverlayPlan(config).segments {
            for name in [segment.bridge, segment.device] {
                guard let link = try link(name) else { continue }
                guard link["ifalias"] as? String == Self.alias else { throw OverlayError.foreignInterface(name) }
                try command.run("ip", ns + ["link", "del", "dev", name])
                removed.append(name)
            }
        }
        return removed
    }

    /// The state of each segment, compared with the plan.
    public func status() throws -> [SegmentStatus] {
        try status(try plan())
    }

    func status(_ plan: OverlayPlan) throws -> [SegmentStatus] {
        try plan.segments.map { segment in
            var s = SegmentStatus(vni: segment.vni, device: segment.device, bridge: segment.bridge)
            let device = try link(segment.device, details: true)
            let bridge = try link(segment.bridge)
            s.deviceUp = (device?["flags"] as? [String])?.contains("UP") ?? false
            s.bridgeUp = (bridge?["flags"] as? [String])?.contains("UP") ?? false
            s.mtu = bridge?["mtu"] as? Int
            if device == nil { s.problems.append("\(segment.device) is missing") }
            else if device?["ifalias"] as? String != Self.alias { s.problems.append("\(segment.device) is not guesthouse's") }
            else {
                if let mismatch = deviceMismatch(device!, segment, plan: plan) { s.problems.append(mismatch) }
                if device?["master"] as? String != segment.bridge {
                    s.problems.append("\(segment.device) is not enslaved to \(segment.bridge)")
                }
                if !s.deviceUp { s.problems.append("\(segment.device) is down") }
            }
            if bridge == nil { s.problems.append("\(segment.bridge) is missing") }
            else {
                if !s.bridgeUp { s.problems.append("\(segment.bridge) is down") }
                if s.mtu != plan.mtu { s.problems.append("\(segment.bridge) has MTU \(s.mtu ?? 0), planned \(plan.mtu)") }
                s.addresses = try addresses(segment.bridge).map(\.description)
                if !s.addresses.contains(segment.address.description) {
                    s.problems.append("\(segment.bridge) lacks \(segment.address)")
                }
                s.ports = try ports(segment.bridge)
            }
            if device != nil {
                s.flood = try floodEntries(segment.device).map(\.description)
                let wanted = segment.group.map { [$0] } ?? segment.peers
                if Set(s.flood) != Set(wanted.map(\.description)) {
                    s.problems.append("\(segment.device) floods to [\(s.flood.joined(separator: ", "))], "
                                      + "planned [\(wanted.map(\.description).joined(separator: ", "))]")
                }
            }
            return s
        }
    }

    // MARK: - Steps

    var ns: [String] { namespace.map { ["-n", $0] } ?? [] }

    private func ensureDevice(_ segment: OverlaySegment, plan: OverlayPlan) throws {
        if let existing = try link(segment.device, details: true) {
            guard existing["ifalias"] as? String == Self.alias else { throw OverlayError.foreignInterface(segment.device) }
            if deviceMismatch(existing, segment, plan: plan) != nil {
                try command.run("ip", ns + ["link", "del", "dev", segment.device])
            }
        }
        if try link(segment.device) == nil {
            var arguments = ns + ["link", "add", segment.device, "type", "vxlan", "id", String(segment.vni),
                                  "dstport", String(plan.port), "dev", plan.underlay]
            if let group = segment.group { arguments += ["group", group.description] }
            try command.run("ip", arguments)
            try command.run("ip", ns + ["link", "set", "dev", segment.device, "alias", Self.alias])
        }
        try command.run("ip", ns + ["link", "set", "dev", segment.device, "mtu", String(plan.mtu)])
    }

    private func ensureBridge(_ segment: OverlaySegment, plan: OverlayPlan) throws {
        if let existing = try link(segment.bridge, details: true) {
            guard existing["ifalias"] as? String == Self.alias else { throw OverlayError.foreignInterface(segment.bridge) }
        } else {
            try command.run("ip", ns + ["link", "add", segment.bridge, "type", "bridge", "stp_state", "0"])
            try command.run("ip", ns + ["link", "set", "dev", segment.bridge, "alias", Self.alias])
        }
        try command.run("ip", ns + ["link", "set", "dev", segment.bridge, "mtu", String(plan.mtu)])
        try command.run("ip", ns + ["link", "set", "dev", segment.device, "master", segment.bridge])
        try command.run("ip", ns + ["link", "set", "dev", segment.device, "up"])
        try command.run("ip", ns + ["link", "set", "dev", segment.bridge, "up"])
    }

    private func ensureFlooding(_ segment: OverlaySegment) throws {
        guard segment.group == nil else { return }
        let present = Set(try floodEntries(segment.device))
        for peer in segment.peers where !present.contains(peer) {
            try command.run("bridge", ns + ["fdb", "append", Self.floodMAC, "dev", segment.device, "dst", peer.description])
        }
        for stale in present.subtracting(segment.peers) {
            try command.run("bridge", ns + ["fdb", "del", Self.floodMAC, "dev", segment.device, "dst", stale.description])
        }
    }

    private func ensureAddress(_ segment: OverlaySegment) throws {
        for other in try addresses(segment.bridge) where other != segment.address {
            try command.run("ip", ns + ["addr", "del", other.description, "dev", segment.bridge])
        }
        try command.run("ip", ns + ["addr", "replace", segment.address.description, "dev", segment.bridge])
    }

    // MARK: - Reading iproute2's JSON

    /// What differs between an existing VXLAN device and the plan, or nil.
    func deviceMismatch(_ link: [String: Any], _ segment: OverlaySegment, plan: OverlayPlan) -> String? {
        let info = (link["linkinfo"] as? [String: Any]) ?? [:]
        guard info["info_kind"] as? String == "vxlan" else { return "\(segment.device) is not a VXLAN device" }
        let data = (info["info_data"] as? [String: Any]) ?? [:]
        if data["id"] as? Int != segment.vni { return "\(segment.device) has VNI \(data["id"] ?? "?")" }
        if data["port"] as? Int != plan.port { return "\(segment.device) has port \(data["port"] ?? "?")" }
        if data["link"] as? String != plan.underlay { return "\(segment.device) runs over \(data["link"] ?? "?")" }
        if data["group"] as? String != segment.group?.description {
            return "\(segment.device) has group \(data["group"] ?? "none")"
        }
        return nil
    }

    func link(_ name: String, details: Bool = false) throws -> [String: Any]? {
        try command.ipLink(name, namespace: namespace, details: details)
    }

    func addresses(_ name: String) throws -> [IPv4Interface] {
        let output = try command.run("ip", ns + ["-j", "-4", "addr", "show", "dev", name])
        let links = (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
        return links.flatMap { ($0["addr_info"] as? [[String: Any]]) ?? [] }.compactMap { info in
            guard let local = info["local"] as? String, let prefix = info["prefixlen"] as? Int else { return nil }
            return IPv4Interface("\(local)/\(prefix)")
        }
    }

    func ports(_ bridge: String) throws -> [String] {
        let output = try command.run("ip", ns + ["-j", "link", "show", "master", bridge])
        let links = (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
        return links.compactMap { $0["ifname"] as? String }.sorted()
    }

    /// The destinations of the device's all-zero (flooding) forwarding entries.
    func floodEntries(_ device: String) throws -> [IPv4Address] {
        let output = try command.run("bridge", ns + ["-j", "fdb", "show", "dev", device])
        let entries = (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
        return entries.compactMap { entry in
            guard entry["mac"] as? String == Self.floodMAC, let dst = entry["dst"] as? String else { return nil }
            return IPv4Address(dst)
        }
    }
}

/// One segment's state on the host.
public struct SegmentStatus: Sendable, Codable, Equatable {
    public var vni: Int
    public var device: String
    public var bridge: String
    public var deviceUp = false
    public var bridgeUp = false
    public var mtu: Int?
    public var addresses: [String] = []
    /// Where broadcast and unknown frames go: the group, or the peers.
    public var flood: [String] = []
    /// The bridge's ports (the VXLAN device and containers' veths).
    public var ports: [String] = []
    /// What differs from the plan; empty when all is as planned.
    public var problems: [String] = []

    public var ok: Bool { problems.isEmpty }

    public init(vni: Int, device: String, bridge: String) {
        self.vni = vni
        self.device = device
        self.bridge = bridge
    }
}
