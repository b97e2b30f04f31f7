/// Checks on names that reach libvirt or the file system.
public enum Validation {
    /// A guest, network, volume or snapshot name: 1-64 characters of letters, digits, `-`, `_` and `.`,
    /// not starting with `.` or `-`.
    /// - Throws: `GuesthouseError.invalidArguments` naming `field`.
    public static func name(_ value: String, field: String = "name") throws {
        let allowed = value.unicodeScalars.allSatisfy(isNameCharacter)
        guard !value.isEmpty, value.utf8.count <= 64, allowed,
              let first = value.first, first != ".", first != "-" else {
            throw GuesthouseError.invalid(
                "\(field) must be 1-64 letters, digits, '-', '_' or '.', not starting with '.' or '-'")
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
