import Crypto
import Foundation

/// An OVA's manifest (its `.mf` member, DMTF DSP0243 §5.1): one line per file,
/// `SHA1(name)= hex` or `SHA256(name)= hex` (spaces around the parts are allowed). Every file it
/// names must be in the OVA with that digest; files it does not name are not checked.
public struct OVAManifest: Sendable, Equatable {
    public enum Algorithm: String, Sendable {
        case sha1 = "SHA1", sha256 = "SHA256"
    }

    public struct Entry: Sendable, Equatable {
        public var algorithm: Algorithm
        public var file: String
        /// Lowercase hex.
        public var digest: String

        public init(algorithm: Algorithm, file: String, digest: String) {
            self.algorithm = algorithm
            self.file = file
            self.digest = digest
        }
    }

    public var entries: [Entry]

    /// Parses the manifest's text.
    /// - Throws: `invalidArguments` naming a line that is not `ALGORITHM(file)= hex`, or an
    ///   algorithm other than SHA1 and SHA256.
    public init(parsing text: String) throws {
        var entries: [Entry] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), open < close,
                  let equals = line[close...].firstIndex(of: "=") else {
                throw GuesthouseError.invalid("the OVA's manifest has a line that is not ALGORITHM(file)= digest: \(line.prefix(80))")
            }
            let name = line[..<open].trimmingCharacters(in: .whitespaces).uppercased()
            guard let algorithm = Algorithm(rawValue: name) else {
                throw GuesthouseError.invalid("the OVA's manifest uses the digest '\(name.prefix(20))'; SHA1 and SHA256 are supported")
            }
            let file = String(line[line.index(after: open)..<close])
            let digest = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces).lowercased()
            let length = algorithm == .sha1 ? 40 : 64
            guard digest.count == length, digest.allSatisfy(\.isHexDigit) else {
                throw GuesthouseError.invalid("the OVA's manifest gives \(file) a malformed \(algorithm.rawValue) digest")
            }
            entries.append(Entry(algorithm: algorithm, file: Self.normalized(file), digest: digest))
        }
        self.entries = entries
    }

    /// Checks every entry against the digests of the OVA's members (by member name).
    /// - Throws: `invalidArguments` naming the first file that is missing or differs.
    public func verify(_ members: [String: MemberDigests]) throws {
        for entry in entries {
            guard let digests = members[entry.file] else {
                throw GuesthouseError.invalid("the OVA's manifest names \(entry.file), which the OVA does not hold")
            }
            let actual = entry.algorithm == .sha1 ? digests.sha1 : digests.sha256
            guard actual == entry.digest else {
                throw GuesthouseError.invalid("\(entry.file) does not match the OVA's manifest: its \(entry.algorithm.rawValue) is \(actual), the manifest says \(entry.digest)")
            }
        }
    }

    static func normalized(_ name: String) -> String {
        name.hasPrefix("./") ? String(name.dropFirst(2)) : name
    }
}

/// The SHA-1 and SHA-256 digests of one OVA member (lowercase hex).
public struct MemberDigests: Sendable, Equatable {
    public var sha1: String
    public var sha256: String

    public init(sha1: String, sha256: String) {
        self.sha1 = sha1
        self.sha256 = sha256
    }
}

/// Computes `MemberDigests` over a member's bytes as they pass.
struct MemberHasher {
    private var sha1 = Insecure.SHA1()
    private var sha256 = SHA256()
    private static let zeros = [UInt8](repeating: 0, count: 1 << 20)

    mutating func update(_ bytes: [UInt8]) {
        sha1.update(data: bytes)
        sha256.update(data: bytes)
    }

    /// A hole of a sparse member: `length` zero bytes.
    mutating func update(zeros length: UInt64) {
        var left = length
        while left > 0 {
            let n = Int(min(left, UInt64(Self.zeros.count)))
            Self.zeros.withUnsafeBytes { all in
                let part = UnsafeRawBufferPointer(rebasing: all[..<n])
                sha1.update(bufferPointer: part)
                sha256.update(bufferPointer: part)
            }
            left -= UInt64(n)
        }
    }

    func finalize() -> MemberDigests {
        func hex<D: Sequence<UInt8>>(_ digest: D) -> String { digest.map { String(format: "%02x", $0) }.joined() }
        return MemberDigests(sha1: hex(sha1.finalize()), sha256: hex(sha256.finalize()))
    }
}
