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
