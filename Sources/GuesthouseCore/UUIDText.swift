/// UUIDs as text, checked on UTF-8 bytes: Foundation's `UUID(uuidString:)` runs `sscanf`, which
/// showed in profiles of guest info. One check for the view's keys, the guest info route and lookups.
public enum UUIDText {
    /// Whether `bytes` are exactly 8-4-4-4-12 hex digits (either case) with dashes.
    @inlinable
    public static func isDashed(_ bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count == 36 else { return false }
        var offset = 0
        for byte in bytes {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard isHex(byte) else { return false }
            }
            offset += 1
        }
        return true
    }

    /// The lowercase dashed form of a dashed or undashed UUID, nil for anything else (a name).
    @inlinable
    public static func key(_ id: String) -> String? {
        let bytes = id.utf8
        switch bytes.count {
        case 36:
            guard isDashed(bytes) else { return nil }
            let upper = bytes.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F") }
            return upper ? id.lowercased() : id  // already the key: no copy (the usual case)
        case 32:
            guard bytes.allSatisfy(isHex) else { return nil }
            var dashed: [UInt8] = []
            dashed.reserveCapacity(36)
            for (offset, byte) in bytes.enumerated() {
                if offset == 8 || offset == 12 || offset == 16 || offset == 20 { dashed.append(UInt8(ascii: "-")) }
                dashed.append(byte | 0x20)  // lower case; digits are unchanged by it
            }
            return String(decoding: dashed, as: UTF8.self)
        default:
            return nil
        }
    }

    @inlinable @usableFromInline
    static func isHex(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "f"))
    }
}
