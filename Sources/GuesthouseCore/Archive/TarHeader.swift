/// One 512-byte tar header block: encoding (ustar, as POSIX pax archives use it) and decoding
/// (ustar, pax and GNU variants, including GNU's base-256 numbers).
public enum Tar {
    public static let blockSize = 512

    /// Type flags this project writes or reads.
    public enum TypeFlag {
        public static let file = UInt8(ascii: "0")
        public static let oldFile: UInt8 = 0
        public static let contiguous = UInt8(ascii: "7")
        public static let directory = UInt8(ascii: "5")
        public static let paxExtended = UInt8(ascii: "x")
        public static let paxGlobal = UInt8(ascii: "g")
        public static let gnuLongName = UInt8(ascii: "L")
        public static let gnuLongLink = UInt8(ascii: "K")
        public static let gnuSparse = UInt8(ascii: "S")
    }

    /// The largest value an 11-digit octal field holds (8 GiB - 1): larger sizes go in pax records.
    public static let maxOctalSize: UInt64 = 0o77777777777

    /// Zero bytes that pad `size` bytes to a whole block.
    public static func padding(for size: UInt64) -> Int {
        let rest = Int(size % UInt64(blockSize))
        return rest == 0 ? 0 : blockSize - rest
    }

    /// `size` rounded up to whole blocks.
    public static func blocks(_ size: UInt64) -> UInt64 { size + UInt64(padding(for: size)) }

    /// Two zero blocks end an archive.
    public static let trailer = [UInt8](repeating: 0, count: 2 * blockSize)

    /// A ustar header block (magic "ustar\0", version "00"). `name` is cut at 100 bytes (callers put
    /// the full name in a pax record); a `size` or `mtime` that does not fit in octal is written as 0
    /// (callers put it in a pax record too).
    public static func header(name: String, size: UInt64, mtime: UInt64 = 0, type: UInt8 = TypeFlag.file,
                              mode: UInt64 = 0o644) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: some Sequence<UInt8>, at offset: Int, width: Int) {
            for (i, byte) in bytes.prefix(width).enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: UInt64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            let fits = digits.count <= width - 1
            let text = fits ? String(repeating: "0", count: width - 1 - digits.count) + digits
                            : String(repeating: "0", count: width - 1)
            put(text.utf8, at: offset, width: width - 1)
        }
        put(utf8Prefix(name, maxBytes: 100), at: 0, width: 100)
        octal(mode, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        block[156] = type
        put("ustar".utf8, at: 257, width: 6)
        put("00".utf8, at: 263, width: 2)
        put("root".utf8, at: 265, width: 32)
        put("root".utf8, at: 297, width: 32)
        let sum = checksum(block)
        let digits = String(sum, radix: 8)
        put((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8, at: 148, width: 6)
        block[154] = 0
        block[155] = UInt8(ascii: " ")
        return block
    }

    /// At most `maxBytes` of `text`'s UTF-8, never splitting a character.
    static func utf8Prefix(_ text: String, maxBytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if out.count + bytes.count > maxBytes { break }
            out += bytes
        }
        return out
    }

    /// The header checksum: every byte summed, the checksum field counted as spaces.
    static func checksum(_ block: [UInt8]) -> Int {
        var sum = 0
        for (i, byte) in block.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(byte) }
        return sum
    }

    /// One decoded header block, before pax or GNU extension records are applied.
    public struct RawHeader: Sendable, Equatable {
        public var name: String
        public var size: UInt64
        public var mtime: UInt64
        public var type: UInt8
        /// The whole block (GNU sparse headers keep their map in it).
        public var block: [UInt8]
        public var isGNU: Bool { Array(block[257..<265]) == Array("ustar  \0".utf8) }
    }

    /// Decodes a header block; nil for an all-zero block (the end of the archive).
    /// - Throws: `GuesthouseError.invalidArguments` for a corrupt header (checksum, numbers).
    public static func parseHeader(_ block: [UInt8]) throws -> RawHeader? {
        guard block.count == blockSize else { throw GuesthouseError.invalid("the archive is truncated") }
        if block.allSatisfy({ $0 == 0 }) { return nil }
        guard let recorded = number(block[148..<156]), recorded == UInt64(checksum(block)) else {
            throw GuesthouseError.invalid("the archive is corrupt (bad header checksum)")
        }
        guard let size = number(block[124..<136]), let mtime = number(block[136..<148]) else {
            throw GuesthouseError.invalid("the archive is corrupt (bad size)")
        }
        var name = string(block[0..<100])
        // POSIX ustar has a prefix field; GNU's own format keeps other fields there.
        if Array(block[257..<263]) == Array("ustar\0".utf8) {
            let prefix = string(block[345..<500])
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        return RawHeader(name: name, size: size, mtime: mtime, type: block[156], block: block)
    }

    /// A NUL-terminated text field.
    static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// A numeric field: octal (space or NUL padded), or GNU base-256 when the top bit of the first
    /// byte is set. nil when it is neither.
    static func number(_ field: ArraySlice<UInt8>) -> UInt64? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            guard first == 0x80 else { return nil }  // negative numbers are no size
            var value: UInt64 = 0
            for byte in field.dropFirst() {
                guard value >> 56 == 0 else { return nil }
                value = value << 8 | UInt64(byte)
            }
            return value
        }
        let digits = field.drop(while: { $0 == 32 }).prefix { $0 != 0 && $0 != 32 }
        if digits.isEmpty { return 0 }
        return UInt64(String(decoding: digits, as: UTF8.self), radix: 8)
    }
}
