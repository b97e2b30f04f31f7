import Foundation
import Libvirt

/// What the volume download helper sends on its standard output, in order: data and holes of the
/// volume from its start, an optional warning, then either `end` or `failure`.
///
/// On the pipe each frame is one type byte, a little-endian 64-bit length, and for `data`,
/// `warning` and `failure` that many bytes of payload (a failure: 32-bit code and domain of
/// libvirt's error, then its message as UTF-8).
enum VolumeDownloadFrame: Equatable {
    case data([UInt8])
    case hole(UInt64)
    /// The backend refused a sparse stream; the helper sends every byte (libvirt's message).
    case warning(String)
    case end
    case failure(code: Int32, domain: Int32, message: String)

    private enum Tag: UInt8 {
        case data = 0x44, hole = 0x48, warning = 0x57, end = 0x45, failure = 0x58
    }

    /// The frame's bytes on the pipe, header first.
    func encoded() -> [UInt8] {
        switch self {
        case .data(let bytes): Self.header(.data, UInt64(bytes.count)) + bytes
        case .hole(let length): Self.header(.hole, length)
        case .warning(let text): Self.header(.warning, UInt64(text.utf8.count)) + Array(text.utf8)
        case .end: Self.header(.end, 0)
        case .failure(let code, let domain, let message):
            Self.header(.failure, UInt64(8 + message.utf8.count)) + Self.le(UInt32(bitPattern: code))
                + Self.le(UInt32(bitPattern: domain)) + Array(message.utf8)
        }
    }

    /// Only the header of a data frame of `count` bytes (the helper writes the data from its buffer).
    static func dataHeader(count: Int) -> [UInt8] { header(.data, UInt64(count)) }

    static let headerSize = 9
    /// The largest payload a reader accepts: the helper sends data in pieces of at most this.
    static let maxPayload = 4 << 20

    /// Reads one frame with `read` (which fills its whole argument or throws at the end of input).
    static func read(_ read: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> VolumeDownloadFrame {
        var head = [UInt8](repeating: 0, count: headerSize)
        try head.withUnsafeMutableBytes { try read($0) }
        let length = head[1...].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard let tag = Tag(rawValue: head[0]) else { throw FrameError.malformed("unknown frame type \(head[0])") }
        func payload() throws -> [UInt8] {
            guard length <= UInt64(maxPayload) else { throw FrameError.malformed("frame of \(length) bytes") }
            // Read straight into the array's storage (no zero fill of a MiB first).
            return try [UInt8](unsafeUninitializedCapacity: Int(length)) { buffer, count in
                try read(UnsafeMutableRawBufferPointer(buffer))
                count = Int(length)
            }
        }
        switch tag {
        case .data: return .data(try payload())
        case .hole: return .hole(length)
        case .end: return .end
        case .warning: return .warning(String(decoding: try payload(), as: UTF8.self))
        case .failure:
            let bytes = try payload()
            guard bytes.count >= 8 else { throw FrameError.malformed("short failure frame") }
            func word(_ at: Int) -> Int32 {
                Int32(bitPattern: bytes[at..<at + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
            return .failure(code: word(0), domain: word(4), message: String(decoding: bytes[8...], as: UTF8.self))
        }
    }

    enum FrameError: Error, CustomStringConvertible {
        case malformed(String)
        var description: String { switch self { case .malformed(let what): "volume download helper: \(what)" } }
    }

    private static func header(_ tag: Tag, _ length: UInt64) -> [UInt8] {
        [tag.rawValue] + (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
    }

    private static func le(_ value: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
    }
}
