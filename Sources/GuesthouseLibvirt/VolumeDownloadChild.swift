import Foundation
import Libvirt

/// The volume download helper's side: runs in a process of its own (`guesthouse volume-download`),
/// where no libvirt event loop runs. libvirt's remote client reads a stream's socket only inside a
/// call then, so a stream is read exactly as fast as this process writes to its output, which
/// blocks while the server's pipe is full: libvirtd's socket fills and it stops reading the
/// volume. (In the server, libvirt's event loop thread reads every incoming stream packet into an
/// unbounded queue, which grew by hundreds of MiB while a slow HTTP client read an export.)
public enum VolumeDownloadChild {
    /// Bytes of data gathered into one frame.
    static let frameData = 1 << 20

    /// Streams the volume `pool`/`volume` on `uri` to `output` as `VolumeDownloadFrame`s: sparse,
    /// or dense (with a warning first) where the backend refuses sparse streams. Never throws: a
    /// libvirt failure becomes a failure frame. Returns the process's exit status.
    public static func run(uri: String, credentials: LibvirtCredentials?, pool: String, volume: String,
                           output: Int32) -> Int32 {
        let out = FrameOutput(fd: output)
        do {
            let conn = try Connection(uri: uri, credentials: credentials)
            let vol = try conn.storagePool(name: pool).volume(name: volume)
            var stream = try LibvirtStream(connection: conn)
            var sparse = true
            do {
                try vol.download(into: stream, sparse: true)
            } catch let error as LibvirtError where error.kind == .unsupported || error.kind == .invalidArgument {
                try out.write(.warning(error.message))
                stream.abort()
                stream = try LibvirtStream(connection: conn)
                sparse = false
                try vol.download(into: stream, sparse: false)
            }
            var buffer = [UInt8](repeating: 0, count: frameData)
            var filled = 0
            func flush() throws {
                guard filled > 0 else { return }
                try out.write(VolumeDownloadFrame.dataHeader(count: filled))
                try buffer.withUnsafeBytes { try out.write(UnsafeRawBufferPointer(rebasing: $0[..<filled])) }
                filled = 0
            }
            receiving: while true {
                let piece = try buffer.withUnsafeMutableBytes { whole -> LibvirtStream.Piece in
                    let free = UnsafeMutableRawBufferPointer(rebasing: whole[filled...])
                    if sparse { return try stream.receiveSparse(into: free) }
                    let n = try stream.receive(into: free)
                    return n == 0 ? .end : .data(n)
                }
                switch piece {
                case .data(let n):
                    filled += n
                    if filled == buffer.count { try flush() }
                case .hole(let length):
                    try flush()
                    try out.write(.hole(length))
                case .end:
                    try flush()
                    break receiving
                }
            }
            try stream.finish()
            try out.write(.end)
            return 0
        } catch let error as LibvirtError {
            try? out.write(.failure(code: error.code, domain: error.domain, message: error.message))
            return 1
        } catch {
            // The output is gone (the server dropped the transfer): nothing to tell anyone.
            return 2
        }
    }
}

/// Blocking writes of whole buffers to a file descriptor.
struct FrameOutput {
    let fd: Int32

    struct Closed: Error {}

    func write(_ frame: VolumeDownloadFrame) throws { try write(frame.encoded()) }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress!.advanced(by: offset), bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw Closed()
            }
            offset += n
        }
    }
}
