import Foundation

/// `guesthouse.json`, the first entry of an export archive (a POSIX pax tar); then `domain.xml`,
/// then each disk (`disks/<target>.<format>`, a GNU sparse 1.0 member) in the order listed here,
/// then the tar trailer. Imports take the disks in any order.
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
        /// Bytes of the volume file as libvirt streams it, holes included (the entry's real size).
        public var size: UInt64
        /// Bytes of data the entry stores (the rest are holes); absent in archives of older
        /// versions, which stored every byte. What an import needs free in its pool.
        public var allocated: UInt64?

        public init(target: String, file: String, format: String, capacity: UInt64, size: UInt64, allocated: UInt64? = nil) {
            self.target = target
            self.file = file
            self.format = format
            self.capacity = capacity
            self.size = size
            self.allocated = allocated
        }

        /// The bytes an import writes for this disk.
        public var needed: UInt64 { allocated ?? size }
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

/// Called as a transfer goes: bytes of disk done (holes count as done) and the total.
public typealias TransferProgressReport = @Sendable (_ done: UInt64, _ total: UInt64) -> Void

/// Export and import of guests as one archive.
public protocol GuestArchiving: Sendable {
    /// Checks that the guest can be exported (stopped; disks are volumes; the driver can read them),
    /// reads where its disks hold data, and returns the archive to stream: its length is known, and
    /// `GuestExport.write`'s sink sees every byte (count them for progress).
    func exportGuest(guestID: String) async throws -> GuestExport
    /// Creates a guest (and its volumes, in `storage` or the default pool) from an archive (any
    /// `TarReader` reads). A truncated or corrupt archive is `invalidArguments`, a pool without room
    /// for the disks' data `operationNotAllowed` (409), and either leaves nothing behind.
    /// `progress` is told of the disks' bytes as they are written.
    func importGuest(storage: String?, archive: AsyncThrowingStream<[UInt8], any Error>,
                     progress: TransferProgressReport?) async throws -> Guest
}

extension GuestArchiving {
    /// An import without progress reports.
    public func importGuest(storage: String?, archive: AsyncThrowingStream<[UInt8], any Error>) async throws -> Guest {
        try await importGuest(storage: storage, archive: archive, progress: nil)
    }
}
