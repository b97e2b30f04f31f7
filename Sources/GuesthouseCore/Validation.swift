/// Checks on names and numbers that reach libvirt or the file system. The bounds are constants here,
/// so the checks and the OpenAPI document's request schemas read the same values and cannot drift.
public enum Validation {
    /// The longest name, in UTF-8 bytes (all of its characters are ASCII).
    public static let nameMaxLength = 64
    /// A name as an ECMA regular expression (the OpenAPI document's `pattern`): letters, digits,
    /// `-`, `_` and `.`, not starting with `.` or `-`; `nameMaxLength` bounds its length.
    public static let namePattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
    /// A host a Simplestack path names (checked lower-cased): letters, digits, `.`, `-` and `_`, not
    /// starting with `.` or `-`, at most `hostMaxLength` characters.
    public static let hostPattern = "^[A-Za-z0-9_][A-Za-z0-9._-]*$"
    public static let hostMaxLength = 253
    /// A guest's memory, MiB.
    public static let memoryMiB = 16...16_777_216
    /// A guest's virtual CPUs.
    public static let cpus = 1...1024
    /// A disk's size, GiB.
    public static let diskGiB = 1...65536
    /// An 802.1Q VLAN id.
    public static let vlan = 1...4094
    /// Seconds a graceful stop may wait for the guest to be off.
    public static let stopTimeoutSeconds = 1...3600
    /// An interface's rate limit, bytes/s.
    public static let rateLimitBytes = 1...Int(Int32.max)
    /// A tag's length, in characters (Unicode scalars).
    public static let tagLength = 1...255
    /// A tag: no `/` and no control characters (below U+0020).
    public static let tagPattern = "^[^/\\u0000-\\u001F]*$"
    /// A MAC address: six pairs of hex digits separated by `:` or `-`.
    public static let macPattern = "^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$"
    /// A unicast MAC address (the first octet even), as a new interface needs (libvirt's schema).
    public static let unicastMACPattern = "^[0-9A-Fa-f][02468ACEace]([:-][0-9A-Fa-f]{2}){5}$"

    /// A guest, network, volume or snapshot name: 1-64 characters of letters, digits, `-`, `_` and `.`,
    /// not starting with `.` or `-`.
    /// - Throws: `GuesthouseError.invalidArguments` naming `field`.
    public static func name(_ value: String, field: String = "name") throws {
        let allowed = value.unicodeScalars.allSatisfy(isNameCharacter)
        guard !value.isEmpty, value.utf8.count <= nameMaxLength, allowed,
              let first = value.first, first != ".", first != "-" else {
            throw GuesthouseError.invalid(
                "\(field) must be 1-\(nameMaxLength) letters, digits, '-', '_' or '.', not starting with '.' or '-'")
        }
    }

    static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".": return true
        default: return false
        }
    }

    /// A positive integer within bounds.
    public static func range(_ value: Int, _ bounds: ClosedRange<Int>, field: String) throws {
        guard bounds.contains(value) else {
            throw GuesthouseError.invalid("\(field) must be between \(bounds.lowerBound) and \(bounds.upperBound)")
        }
    }
}
