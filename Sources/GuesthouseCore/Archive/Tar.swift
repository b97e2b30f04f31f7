/// The ustar archive format of guest exports: enough to write regular files and to read them back
/// incrementally (a body arrives in pieces and disks never sit whole in memory).
public enum Tar {
    public static let blockSize = 512

    /// The 512-byte header of a regular file. Names up to 100 bytes.
    public static func header(name: String, size: UInt64, mtime: UInt64 = 0) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, byte) in text.utf8.prefix(width).enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: UInt64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        put("        ", at: 148, width: 8)
        block[156] = UInt8(ascii: "0")
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits, at: 148, width: 6)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return block
    }

    /// Zero bytes that pad a file of `size` bytes to a whole block.
    public static func padding(for size: UInt64) -> Int {
        let rest = Int(size % UInt64(blockSize))
        return rest == 0 ? 0 : blockSize - rest
    }

    /// Two zero blocks end an archive.
    public static let trailer = [UInt8](repeating: 0, count: 2 * blockSize)

    /// One parsed header.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var size: UInt64
        /// "0" (or NUL) for regular files.
        public var type: UInt8
        public var isFile: Bool { type == UInt8(ascii: "0") || type == 0 }
    }

    /// Parses a header block; nil for an all-zero block (the end).
    /// - Throws: `GuesthouseError.invalidArguments` for a corrupt header (bad checksum or size).
    public static func parseHeader(_ block: ArraySlice<UInt8>) throws -> Entry? {
        let b = Array(block)
        guard b.count == blockSize else { throw GuesthouseError.invalid("the archive is truncated") }
        if b.allSatisfy({ $0 == 0 }) { return nil }
        var sum = 0
        for (i, byte) in b.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(byte) }
        guard let recorded = octalValue(b[148..<156]), recorded == UInt64(sum) else {
            throw GuesthouseError.invalid("the archive is corrupt (bad header checksum)")
        }
        guard let size = octalValue(b[124..<136]) else { throw GuesthouseError.invalid("the archive is corrupt (bad size)") }
        let nameBytes = b[0..<100].prefix { $0 != 0 }
        var name = String(decoding: nameBytes, as: UTF8.self)
        let prefixBytes = b[345..<500].prefix { $0 != 0 }
        if !prefixBytes.isEmpty { name = String(decoding: prefixBytes, as: UTF8.self) + "/" + name }
        return Entry(name: name, size: size, type: b[156])
    }

    static func octalValue(_ field: ArraySlice<UInt8>) -> UInt64? {
        let text = String(decoding: field.drop(while: { $0 == 32 }).prefix { $0 != 0 && $0 != 32 }, as: UTF8.self)
        if text.isEmpty { return 0 }
        return UInt64(text, radix: 8)
    }
}
