import Foundation
import GuesthouseCore
import Libvirt

/// Volume downloads and uploads as libvirt sparse streams (holes travel as lengths, never as
/// zeros), falling back to dense streams, logged, where the pool's backend refuses sparse ones.
/// Each piece is one hop on the libvirt executor; a failure or a throwing consumer aborts the
/// stream, so libvirt stops at once.
extension LibvirtHypervisor {
    static let chunkSize = 1 << 20
    /// The largest message an upload hands to libvirt.
    static let sendSize = 256 << 10

    /// A volume by pool and name.
    struct VolumeRef: Sendable {
        var pool: String
        var volume: String
    }

    /// Starts a transfer on a fresh stream: sparse first, dense when the backend refuses that.
    private func open(_ ref: VolumeRef, operation: String,
                      _ start: @escaping @Sendable (StorageVolume, LibvirtStream, Bool) throws -> Void) async throws -> (LibvirtStream, sparse: Bool) {
        let conn = try await pool.connection(uri: uri, credentials: credentials)
        let family = self.family
        let logger = pool.logger
        return try await executor.run {
            do {
                let volume = try conn.storagePool(name: ref.pool).volume(name: ref.volume)
                let stream = try Stream(connection: conn)
                do {
                    try start(volume, stream, true)
                    return (stream, true)
                } catch let error as LibvirtError where error.kind == .unsupported || error.kind == .invalidArgument {
                    logger.notice("\(operation) of \(ref.pool)/\(ref.volume): no sparse stream here (\(error.message)); sending every byte")
                    stream.abort()
                    let dense = try Stream(connection: conn)
                    try start(volume, dense, false)
                    return (dense, false)
                }
            } catch { throw LibvirtErrorMapping.map(error, operation: operation, family: family) }
        }
    }

    /// Reads a volume from its start, passing its data and holes to `body` in order. A volume with
    /// more than `VolumeDownloadHelper.inProcessLimit` bytes of data (`data`; nil: unknown, read
    /// in this process, for a `body` that keeps up) goes through the pool's download helper
    /// process when it has one, so memory stays bounded however slowly `body` goes; a smaller one
    /// is read in this process (libvirt's queue then holds at most its data, and no process or
    /// connection is started for it).
    func readVolume(_ ref: VolumeRef, data: UInt64? = nil, _ body: (FilePiece) async throws -> Void) async throws {
        if let helper = pool.downloadHelper, helper.serves(uri: uri), let data, data > VolumeDownloadHelper.inProcessLimit {
            return try await readVolume(ref, through: helper, body)
        }
        let (stream, sparse) = try await open(ref, operation: "volume download") { volume, stream, sparse in
            try volume.download(into: stream, sparse: sparse)
        }
        let family = self.family
        do {
            while true {
                let piece: FilePiece? = try await executor.run {
                    var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
                    do {
                        if sparse {
                            switch try buffer.withUnsafeMutableBytes({ try stream.receiveSparse(into: $0) }) {
                            case .data(let n): buffer.removeSubrange(n...); return .data(buffer)
                            case .hole(let length): return .hole(length)
                            case .end: return nil
                            }
                        }
                        let n = try buffer.withUnsafeMutableBytes { try stream.receive(into: $0) }
                        if n == 0 { return nil }
                        buffer.removeSubrange(n...)
                        return .data(buffer)
                    } catch { throw LibvirtErrorMapping.map(error, operation: "volume download", family: family) }
                }
                guard let piece else { break }
                try await body(piece)
            }
            try await executor.run {
                do { try stream.finish() } catch { throw LibvirtErrorMapping.map(error, operation: "volume download", family: family) }
            }
        } catch {
            stream.abort()
            throw error
        }
    }

    /// Where a volume holds data: read from the file when it is one on this machine (no data
    /// read), else by a first pass over its sparse stream (the data read and dropped).
    func dataMap(_ ref: VolumeRef, path: String?, size: UInt64) async throws -> SparseMap {
        if let path, LocalFileMap.isLocal(uri: uri) {
            if let map = try await executor.run({ LocalFileMap.read(path: path, size: size) }) { return map }
        }
        var extents: [SparseMap.Extent] = []
        var position: UInt64 = 0
        try await readVolume(ref) { piece in
            switch piece {
            case .data(let bytes):
                extents.append(SparseMap.Extent(offset: position, length: UInt64(bytes.count)))
                position += UInt64(bytes.count)
            case .hole(let length):
                position += length
            }
        }
        guard position == size else {
            throw GuesthouseError.hypervisor("volume \(ref.volume) gave \(position) of \(size) bytes")
        }
        return try SparseMap(realSize: size, extents: extents)
    }

    /// Writes `length` bytes into a volume from its start, taking its data and holes from `pieces`
    /// (which calls its argument for each piece, in order).
    func writeVolume(_ ref: VolumeRef, length: UInt64,
                     _ pieces: (_ put: (FilePiece) async throws -> Void) async throws -> Void) async throws {
        let (stream, sparse) = try await open(ref, operation: "volume upload") { volume, stream, sparse in
            try volume.upload(from: stream, offset: 0, length: length, sparse: sparse)
        }
        let family = self.family
        let executor = self.executor
        // One piece goes to libvirt (a blocking send on the executor) while the next is read from
        // `pieces`: at most one piece in flight and one being gathered.
        var inFlight: Task<Void, any Error>?
        func start(_ work: @escaping @Sendable () throws -> Void) async throws {
            try await inFlight?.value
            inFlight = Task {
                try await executor.run {
                    do { try work() } catch { throw LibvirtErrorMapping.map(error, operation: "volume upload", family: family) }
                }
            }
        }
        // One executor hop per piece, but libvirt gets it in messages of `sendSize`: with 1 MiB
        // messages libvirtd spent more CPU per byte (page faults on its message buffers, perf).
        func send(_ bytes: [UInt8]) async throws {
            try await start {
                try bytes.withUnsafeBytes { whole in
                    var offset = 0
                    repeat {
                        let end = min(offset + Self.sendSize, whole.count)
                        try stream.send(UnsafeRawBufferPointer(rebasing: whole[offset..<end]))
                        offset = end
                    } while offset < whole.count
                }
            }
        }
        // Data is gathered into pieces of `chunkSize` (a request body arrives in small buffers):
        // one executor hop per MiB, not per buffer.
        var pending: [UInt8] = []
        pending.reserveCapacity(Self.chunkSize)
        do {
            try await pieces { piece in
                switch piece {
                case .data(let bytes):
                    if pending.isEmpty && bytes.count >= Self.chunkSize {
                        try await send(bytes)
                        return
                    }
                    pending += bytes
                    if pending.count >= Self.chunkSize {
                        try await send(pending)
                        pending = []
                        pending.reserveCapacity(Self.chunkSize)
                    }
                case .hole(var length):
                    if !pending.isEmpty {
                        try await send(pending)
                        pending = []
                        pending.reserveCapacity(Self.chunkSize)
                    }
                    if sparse {
                        let hole = length
                        try await start { try stream.sendHole(hole) }
                        return
                    }
                    let zeros = [UInt8](repeating: 0, count: Self.chunkSize)
                    while length > 0 {
                        let n = Int(min(length, UInt64(zeros.count)))
                        try await send(n == zeros.count ? zeros : Array(zeros.prefix(n)))
                        length -= UInt64(n)
                    }
                }
            }
            if !pending.isEmpty { try await send(pending) }
            try await start { try stream.finish() }
            try await inFlight?.value
        } catch {
            _ = try? await inFlight?.value
            stream.abort()
            throw error
        }
    }
}
