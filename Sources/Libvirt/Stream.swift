internal import CLibvirt

/// A blocking libvirt data stream, used for volume upload and download.
public final class Stream: @unchecked Sendable {
    let pointer: OpaquePointer
    private var finished = false

    /// Opens a new blocking stream on `connection`.
    public init(connection: Connection) throws {
        guard let s = virStreamNew(connection.pointer, 0) else { throw LibvirtError.last("virStreamNew") }
        pointer = s
    }

    deinit {
        if !finished { _ = virStreamAbort(pointer); virResetLastError() }
        virStreamFree(pointer)
    }

    /// Reads up to `buffer.count` bytes; returns how many were read, 0 at the end of the stream.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = virStreamRecv(pointer, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count)
        if n < 0 { throw LibvirtError.last("virStreamRecv") }
        return Int(n)
    }

    /// What a sparse receive found.
    public enum Piece: Sendable, Equatable {
        /// `count` bytes of data were read into the buffer.
        case data(Int)
        /// The stream is at a hole of `length` bytes (already consumed).
        case hole(UInt64)
        /// The end of the stream.
        case end
    }

    /// Reads up to `buffer.count` bytes of a sparse stream (a download started with `sparse`),
    /// stopping at holes: a hole is reported with its length instead of as zeros.
    public func receiveSparse(into buffer: UnsafeMutableRawBufferPointer) throws -> Piece {
        let n = virStreamRecvFlags(pointer, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count,
                                   UInt32(VIR_STREAM_RECV_STOP_AT_HOLE.rawValue))
        if n == -3 {
            var length: Int64 = 0
            try check("virStreamRecvHole", virStreamRecvHole(pointer, &length, 0))
            return .hole(UInt64(max(0, length)))
        }
        if n < 0 { throw LibvirtError.last("virStreamRecvFlags") }
        return n == 0 ? .end : .data(Int(n))
    }

    /// Sends a hole of `length` bytes (an upload started with `sparse`): the target skips them.
    public func sendHole(_ length: UInt64) throws {
        try check("virStreamSendHole", virStreamSendHole(pointer, Int64(length), 0))
    }

    /// Writes all of `bytes` to the stream.
    public func send(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let base = bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self)
            let n = virStreamSend(pointer, base, bytes.count - offset)
            if n < 0 { throw LibvirtError.last("virStreamSend") }
            offset += Int(n)
        }
    }

    /// Completes the transfer; for uploads this waits until libvirt has written everything.
    public func finish() throws {
        finished = true
        try check("virStreamFinish", virStreamFinish(pointer))
    }

    /// Abandons the transfer.
    public func abort() {
        finished = true
        if virStreamAbort(pointer) < 0 { virResetLastError() }
    }
}

/// `Stream` for modules that also see Foundation's `Stream`.
public typealias LibvirtStream = Stream
