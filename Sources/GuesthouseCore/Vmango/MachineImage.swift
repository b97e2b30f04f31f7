import Foundation

/// An image a machine can be made from: a volume of a provider's image pool whose name follows
/// vmango's `{OS}-{Version}_{arch}_{format}.img`, e.g. `Centos-7_amd64_qcow2.img`.
public struct MachineImage: Sendable, Equatable, Codable {
    /// The volume's name.
    public var id: String
    /// e.g. "Centos-7".
    public var os: String
    /// e.g. "x86_64" (the name says "amd64").
    public var arch: String
    /// Bytes on disk.
    public var size: UInt64
    public var format: Format
    /// When the volume's file last changed (RFC 3339); "" when unknown.
    public var date: String
    public var poolName: String

    /// vmango's numbering: 0 raw, 1 qcow2.
    public enum Format: Int, Sendable, Codable {
        case raw = 0, qcow2 = 1

        public var name: String { self == .raw ? "raw" : "qcow2" }
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id", os = "OS", arch = "Arch", size = "Size", format = "Type", date = "Date", poolName = "PoolName"
    }

    public init(id: String, os: String, arch: String, size: UInt64, format: Format, date: String, poolName: String) {
        self.id = id
        self.os = os
        self.arch = arch
        self.size = size
        self.format = format
        self.date = date
        self.poolName = poolName
    }

    /// What an image's volume name says about it.
    public struct Name: Sendable, Equatable {
        public var os: String
        public var arch: String
        public var format: Format

        /// The names `init(parsing:)` takes that are also volume names (`Validation.name`), as an ECMA
        /// regular expression: `{OS}-{Version}` without `_`, a known arch, a known format.
        public static let pattern = "^[A-Za-z0-9][A-Za-z0-9.]*-[A-Za-z0-9.-]+_(amd64|i386|i686|arm64|aarch64)_(qcow2|raw)\\.img$"

        /// Parses `{OS}-{Version}_{arch}_{format}.img`.
        /// - Throws: `GuesthouseError.invalidArguments` naming what does not parse.
        public init(parsing name: String) throws {
            guard name.hasSuffix(".img") else { throw GuesthouseError.invalid("image name '\(name)' does not end in .img") }
            let parts = name.dropLast(4).split(separator: "_", omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                throw GuesthouseError.invalid("image name '\(name)' is not {OS}-{Version}_{arch}_{format}.img")
            }
            let os = String(parts[0])
            guard let dash = os.firstIndex(of: "-"), dash != os.startIndex, os.index(after: dash) != os.endIndex else {
                throw GuesthouseError.invalid("image name '\(name)' has no {OS}-{Version}")
            }
            switch parts[1] {
            case "amd64", "x86_64": arch = "x86_64"
            case "i386", "i686": arch = "i686"
            case "arm64", "aarch64": arch = "aarch64"
            default: throw GuesthouseError.invalid("image name '\(name)' has an unknown arch '\(parts[1])'")
            }
            switch parts[2] {
            case "qcow2": format = .qcow2
            case "raw": format = .raw
            default: throw GuesthouseError.invalid("image name '\(name)' has an unknown format '\(parts[2])'")
            }
            self.os = os
        }
    }
}
