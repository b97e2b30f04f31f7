/// An IPv4 address, parsed strictly (four decimal octets, no leading zeros).
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber),
                  part == "0" || !part.hasPrefix("0"), let octet = UInt32(part), octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        self.value = value
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    public var isMulticast: Bool { value >> 28 == 0xE }
    /// A unicast address a host may carry: not 0/8, loopback, multicast, reserved or broadcast.
    public var isHostUnicast: Bool {
        let first = value >> 24
        return first != 0 && first != 127 && first < 224
    }
}

/// An address with its prefix length, as `192.168.2.5/24`.
public struct IPv4Interface: Sendable, Hashable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefix: Int

    public init(address: IPv4Address, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]), parts[1].allSatisfy(\.isASCII),
              parts[1].allSatisfy(\.isNumber), parts[1].count <= 2, let prefix = Int(parts[1]),
              (0...32).contains(prefix) else { return nil }
        self.address = address
        self.prefix = prefix
    }

    public var description: String { "\(address)/\(prefix)" }

    public var mask: UInt32 { prefix == 0 ? 0 : UInt32.max << (32 - UInt32(prefix)) }
    public var network: IPv4Address { IPv4Address(address.value & mask) }
    public var broadcast: IPv4Address { IPv4Address(address.value | ~mask) }

    /// Whether the address names a host of its subnet (not the network or broadcast address of a
    /// subnet of /30 or larger).
    public var isHostAddress: Bool {
        guard address.isHostUnicast, prefix >= 1 else { return false }
        if prefix >= 31 { return true }
        return address != network && address != broadcast
    }

    public func contains(_ other: IPv4Address) -> Bool { other.value & mask == address.value & mask }
}
