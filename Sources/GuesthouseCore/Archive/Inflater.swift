internal import CZlib

/// Inflates a gzip stream (concatenated members too) piece by piece: each call gives at most
/// `outputSize` bytes, so a highly compressed input never inflates whole into memory.
final class Inflater: @unchecked Sendable {
    static let outputSize = 1 << 18
    private var stream = z_stream()
    private var input: [UInt8]
    private var inputOffset = 0
    private var ended = false
    private var finishedAll = false

    init(_ first: [UInt8]) throws {
        input = first
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GuesthouseError(.internalError, "zlib cannot start")
        }
    }

    deinit { inflateEnd(&stream) }

    /// The next inflated piece, nil at the end. - Throws: `invalidArguments` for corrupt or
    /// truncated gzip data.
    func next(_ more: () async throws -> [UInt8]?) async throws -> [UInt8]? {
        if finishedAll { return nil }
        while true {
            if inputOffset >= input.count {
                guard let chunk = try await more() else {
                    if ended { finishedAll = true; return nil }
                    throw GuesthouseError.invalid("the archive is truncated (gzip stream ends early)")
                }
                input = chunk
                inputOffset = 0
            }
            if ended {
                // Another gzip member follows, or trailing bytes that are not one (ignored).
                guard input.count - inputOffset >= 2 ? (input[inputOffset] == 0x1F && input[inputOffset + 1] == 0x8B)
                                                     : input[inputOffset] == 0x1F else {
                    inputOffset = input.count
                    continue
                }
                inflateReset(&stream)
                ended = false
            }
            var output = [UInt8](repeating: 0, count: Self.outputSize)
            let available = input.count - inputOffset
            let (status, consumed, produced): (Int32, Int, Int) = input.withUnsafeMutableBytes { inBytes in
                output.withUnsafeMutableBytes { outBytes in
                    stream.next_in = inBytes.baseAddress!.advanced(by: inputOffset).assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = uInt(available)
                    stream.next_out = outBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(outBytes.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    let result = (status, available - Int(stream.avail_in), outBytes.count - Int(stream.avail_out))
                    stream.next_in = nil
                    stream.next_out = nil
                    return result
                }
            }
            inputOffset += consumed
            switch status {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: ended = true
            default: throw GuesthouseError.invalid("the archive is corrupt (bad gzip data)")
            }
            if produced > 0 { return Array(output.prefix(produced)) }
            if status == Z_BUF_ERROR && consumed == 0 && inputOffset < input.count {
                throw GuesthouseError.invalid("the archive is corrupt (bad gzip data)")
            }
        }
    }
}
