import GuesthouseCore

/// Which hosts a Simplestack request may name: exact names, `*.domain` patterns, IPv4 addresses and
/// CIDR blocks. A host is first checked to be a plain name or address, so it cannot change the URI.
public struct HostPolicy: Sendable {
    private let patterns: [Pattern]

    /// A pattern as read once from the configuration.
    private enum Pattern: Sendable {
        case any
        case suffix(String)
        case block(network: UInt32, bits: UInt32)
        case exact(String)
    }

    public init(patterns: [String]) {
        self.patterns = patterns.map { text in
            let pattern = text.lowercased()
            if pattern == "*" { return .any }
            if pattern.hasPrefix("*.") { return .suffix(String(pattern.dropFirst())) }
            if pattern.utf8.contains(UInt8(ascii: "/")), let (network, bits) = Self.cidr(pattern) {
                return .block(network: network, bits: bits)
            }
            return .exact(pattern)
        }
    }

    /// Throws `invalidArguments` for a malformed host and `forbidden` for one not allowed.
    public func check(_ host: String) throws {
        let lower = host.lowercased()
        let valid = !lower.isEmpty && lower.utf8.count <= Validation.hostMaxLength && lower.unicodeScalars.allSatisfy(Self.isHostCharacter)
            && !lower.hasPrefix("-") && !lower.hasPrefix(".")
        guard valid else { throw GuesthouseError.invalid("host '\(host)' is not a host name or IPv4 address") }
        guard patterns.contains(where: { matches(lower, $0) }) else {
            throw GuesthouseError(.forbidden, "host '\(host)' is not in the allowed hosts ([simplestack] hosts)")
        }
    }

    private static func isHostCharacter(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "0"..."9", ".", "-", "_": return true
        default: return false
        }
    }

    private func matches(_ host: String, _ pattern: Pattern) -> Bool {
        switch pattern {
        case .any: return true
        case .suffix(let suffix): return host.hasSuffix(suffix)
        case .block(let network, let bits):
            guard let address = Self.ipv4(host) else { return false }
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
            return address & mask == network & mask
        case .exact(let name): return host == name
        }
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func cidr(_ text: String) -> (UInt32, UInt32)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let network = ipv4(String(parts[0])), let bits = UInt32(parts[1]), bits <= 32 else {
            return nil
        }
        return (network, bits)
    }
}
