import GuesthouseConfig
import GuesthouseCore

/// One VNI of this server's overlay: what `up` makes and `status` checks.
public struct OverlaySegment: Sendable, Equatable {
    public var vni: Int
    /// The VXLAN device (`vxlan<N>`).
    public var device: String
    /// The bridge the device is enslaved to (`br<N>`).
    public var bridge: String
    /// This server's address on the bridge.
    public var address: IPv4Interface
    /// The multicast group, when the overlay floods by multicast.
    public var group: IPv4Address?
    /// The other servers' underlay addresses, when it floods by unicast.
    public var peers: [IPv4Address]
}

/// This server's overlay, computed from `[overlay]` without touching the host: device and bridge
/// names, addresses, the flooding mode and the MTU.
public struct OverlayPlan: Sendable, Equatable {
    /// VXLAN over IPv4 adds 50 bytes to every frame: outer IPv4 (20), UDP (8), VXLAN (8), inner Ethernet (14).
    public static let vxlanOverhead = 50

    public var serverID: Int
    public var underlay: String
    public var port: Int
    /// The MTU of devices, bridges and containers' eth0.
    public var mtu: Int
    public var segments: [OverlaySegment]
    /// What the plan had to adjust (an underlay too small for the configured MTU).
    public var warnings: [String] = []

    /// Plans the overlay.
    /// - Parameter underlayMTU: the underlay's MTU when known; the overlay MTU is lowered to fit in it.
    /// - Throws: `OverlayError` when `[overlay]` has no underlay or a template gives a bad address.
    public init(_ config: OverlayConfig, underlayMTU: Int? = nil) throws {
        guard let underlay = config.underlay else { throw OverlayError.noUnderlay }
        serverID = config.serverID
        self.underlay = underlay
        port = config.port
        mtu = config.mtu
        if let underlayMTU, underlayMTU - Self.vxlanOverhead < config.mtu {
            mtu = underlayMTU - Self.vxlanOverhead
            warnings.append("underlay \(underlay) has MTU \(underlayMTU): overlay MTU lowered from \(config.mtu) to "
                            + "\(mtu) (an overlay MTU of \(config.mtu) needs an underlay MTU of \(config.mtu + Self.vxlanOverhead))")
        }
        let peers = try config.peers.map { text in
            guard let peer = IPv4Address(text), peer.isHostUnicast else {
                throw OverlayError.invalid("overlay.peers: \"\(text)\" is not a unicast IPv4 address")
            }
            return peer
        }
        segments = try config.vnis.map { vni in
            func fill(_ template: String) -> String {
                template.replacingOccurrences(of: "{vni}", with: String(vni))
                    .replacingOccurrences(of: "{server_id}", with: String(config.serverID))
            }
            let addressText = fill(config.address)
            guard let address = IPv4Interface(addressText), address.isHostAddress else {
                throw OverlayError.invalid("overlay.address gives \"\(addressText)\" for VNI \(vni): not a host address with a prefix")
            }
            var group: IPv4Address?
            if peers.isEmpty {
                let groupText = fill(config.group)
                guard let g = IPv4Address(groupText), g.isMulticast else {
                    throw OverlayError.invalid("overlay.group gives \"\(groupText)\" for VNI \(vni): not an IPv4 multicast address")
                }
                group = g
            }
            return OverlaySegment(vni: vni, device: fill(config.device), bridge: fill(config.bridge), address: address,
                                  group: group, peers: peers)
        }
    }
}

/// Why the overlay cannot be planned or applied.
public enum OverlayError: Error, Sendable, CustomStringConvertible, Equatable {
    /// `[overlay]` names no underlay: the overlay stays off.
    case noUnderlay
    /// A configuration value gives something unusable.
    case invalid(String)
    /// An interface of the plan exists but was not made by Guesthouse: it is never touched.
    case foreignInterface(String)
    /// The underlay interface does not exist.
    case missingUnderlay(String)

    public var description: String {
        switch self {
        case .noUnderlay:
            "the overlay is off: [overlay] names no underlay interface (set underlay = \"eth1\"; it is never guessed)"
        case .invalid(let message): message
        case .foreignInterface(let name):
            "\(name) exists and was not made by guesthouse: it is left alone (remove it or choose other names)"
        case .missingUnderlay(let name): "the underlay interface \(name) does not exist"
        }
    }
}
