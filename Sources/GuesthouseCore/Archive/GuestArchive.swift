import Foundation

/// `guesthouse.json`, the first entry of an export archive; then `domain.xml`, then each disk
/// (`disks/<target>.<format>`) in the order listed here, then the tar trailer.
public struct GuestArchiveManifest: Codable, Sendable, Equatable {
    public struct Disk: Codable, Sendable, Equatable {
        /// The target device, e.g. "vda".
        public var target: String
        /// The archive entry holding the volume's bytes.
        public var file: String
        /// "qcow2", "raw", ...
        public var format: String
        /// Capacity (what the guest sees) in bytes.
        public var capacity: UInt64
        /// Bytes of the entry (the volume file as libvirt streams it).
        public var size: UInt64

        public init(target: String, file: String, format: String, capacity: UInt64, size: UInt64) {
            self.target = target
            self.file = file
            self.format = format
            self.capacity = capacity
            self.size = size
        }
    }

    public var format: Int
    public var name: String
    public var disks: [Disk]

    public init(format: Int = 1, name: String, disks: [Disk]) {
        self.format = format
        self.name = name
        self.disks = disks
    }

    public static let entryName = "guesthouse.json"
    public static let domainEntryName = "domain.xml"
}

/// A prepared export: its size is known before the first byte, so the response has a length.
public struct GuestExport: Sendable {
    public var name: String
    /// The archive's exact length in bytes.
    public var length: UInt64
    /// Writes the archive into `sink`, piece by piece (disks never whole in memory).
    public var write: @Sendable (_ sink: @escaping @Sendable ([UInt8]) async throws -> Void) async throws -> Void

    public init(name: String, length: UInt64,
                write: @escaping @Sendable (_ sink: @escaping @Sendable ([UInt8]) async throws -> Void) async throws -> Void) {
        self.name = name
        self.length = length
        self.write = write
    }
}

/// Export and import of guests as one archive.
public protocol GuestArchiving: Sendable {
    /// Checks that the guest can be exported (stopped; disks are volumes; the driver can read them)
    /// and returns the archive to stream.
    func exportGuest(guestID: String) async throws -> GuestExport
    /// Creates a guest (and its volumes, in `storage` or the default pool) from an archive. A
    /// truncated or corrupt archive is `invalidArguments` and leaves nothing behind.
    func importGuest(storage: String?, archive: AsyncThrowingStream<[UInt8], any Error>) async throws -> Guest
}

/// Reads an archive from a stream of byte chunks, never holding more than one chunk and a block.
public final class ArchiveReader: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    private var buffer: [UInt8] = []
    private var offset = 0

    public init(_ stream: AsyncThrowingStream<[UInt8], any Error>) {
        iterator = stream.makeAsyncIterator()
    }

    private func fill() async throws -> Bool {
        while offset >= buffer.count {
            guard let chunk = try await iterator.next() else { return false }
            buffer = chunk
            offset = 0
        }
        return true
    }

    /// Exactly `count` bytes; throws `invalidArguments` ("truncated") when the stream ends first.
    public func read(_ count: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            guard try await fill() else { throw GuesthouseError.invalid("the archive is truncated") }
            let take = min(count - out.count, buffer.count - offset)
            out += buffer[offset..<(offset + take)]
            offset += take
        }
        return out
    }

    /// Passes exactly `count` bytes to `body` in pieces.
    public func stream(_ count: UInt64, _ body: ([UInt8]) async throws -> Void) async throws {
        var left = count
        while left > 0 {
            guard try await fill() else { throw GuesthouseError.invalid("the archive is truncated") }
            let take = Int(min(left, UInt64(buffer.count - offset)))
            try await body(Array(buffer[offset..<(offset + take)]))
            offset += take
            left -= UInt64(take)
        }
    }

    /// The next entry's header, nil at the archive's end.
    public func nextEntry() async throws -> Tar.Entry? {
        try Tar.parseHeader(try await read(Tar.blockSize)[...])
    }

    /// Reads a small entry whole (at most `limit` bytes) with its padding.
    public func readSmall(_ entry: Tar.Entry, limit: Int) async throws -> [UInt8] {
        guard entry.size <= UInt64(limit) else { throw GuesthouseError.invalid("archive entry '\(entry.name)' is too large") }
        let data = try await read(Int(entry.size))
        _ = try await read(Tar.padding(for: entry.size))
        return data
    }
}
