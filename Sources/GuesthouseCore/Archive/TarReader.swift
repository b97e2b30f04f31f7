/// One member of an archive as `TarReader` resolved it (pax, GNU long names and sparse headers
/// applied).
public struct TarEntry: Sendable, Equatable {
    /// The member's name, without a leading "./".
    public var name: String
    /// The type flag of its header ('0' regular file, '5' directory, ...).
    public var type: UInt8
    /// The file's size, holes included.
    public var size: UInt64
    public var mtime: UInt64
    /// Whether the archive stores it sparse (a GNU format: old 'S', pax 0.0, 0.1 or 1.0).
    public var isSparse: Bool

    public var isFile: Bool {
        type == Tar.TypeFlag.file || type == Tar.TypeFlag.oldFile || type == Tar.TypeFlag.contiguous
            || type == Tar.TypeFlag.gnuSparse
    }
}

/// A piece of a file's contents, in order from its start.
public enum FilePiece: Sendable, Equatable {
    case data([UInt8])
    /// `length` bytes that read as zeros.
    case hole(UInt64)
}

/// Reads a tar archive incrementally: POSIX ustar and pax (GNU sparse 0.0, 0.1 and 1.0), GNU
/// format (long names 'L', old sparse 'S'), gzip-compressed or not. Memory stays bounded: data is
/// passed on a chunk at a time; only headers, long names and sparse maps (at most `maxMetadata`
/// bytes each) are held.
public final class TarReader: @unchecked Sendable {
    /// The most bytes a pax header, long name or sparse map may take.
    public static let maxMetadata = 16 << 20
    private let bytes: ByteReader
    /// The current member's stored bytes not read yet, and its padding.
    private var unread: UInt64 = 0
    private var padding = 0
    private var current: (entry: TarEntry, sparse: Sparse)?

    private enum Sparse {
        case none
        /// The map is known from the headers (old GNU, pax 0.x).
        case known(SparseMap)
        /// GNU 1.0: the map starts the member's data.
        case gnu1
    }

    public init(_ stream: AsyncThrowingStream<[UInt8], any Error>) {
        bytes = ByteReader(stream)
    }

    /// The next member, nil at the end of the archive. Skips what was not read of the previous
    /// one. - Throws: `invalidArguments` for a truncated or corrupt archive.
    public func next() async throws -> TarEntry? {
        try await bytes.skip(unread)
        try await bytes.skip(UInt64(padding))
        unread = 0
        padding = 0
        current = nil
        var pax: [String: String] = [:]
        var paxSparse: [UInt64] = []  // pax 0.0 offset/numbytes pairs
        var longName: String?
        while true {
            guard let header = try Tar.parseHeader(try await bytes.read(Tar.blockSize)) else {
                // The end is two zero blocks: a missing second one is a cut archive.
                guard try await bytes.read(Tar.blockSize).allSatisfy({ $0 == 0 }) else {
                    throw GuesthouseError.invalid("the archive is corrupt (a lone zero block)")
                }
                return nil
            }
            switch header.type {
            case Tar.TypeFlag.paxExtended, Tar.TypeFlag.paxGlobal:
                let data = try await metadata(header.size)
                guard header.type == Tar.TypeFlag.paxExtended else { continue }
                for (key, value) in try PaxRecords.decode(data) {
                    if key == "GNU.sparse.offset" || key == "GNU.sparse.numbytes" {
                        guard let n = UInt64(value) else { throw GuesthouseError.invalid("the archive is corrupt (bad \(key))") }
                        paxSparse.append(n)
                    } else {
                        pax[key] = value
                    }
                }
            case Tar.TypeFlag.gnuLongName:
                longName = Tar.string(try await metadata(header.size)[...])
            case Tar.TypeFlag.gnuLongLink:
                _ = try await metadata(header.size)
            default:
                return try await resolve(header, pax: pax, paxSparse: paxSparse, longName: longName)
            }
        }
    }

    /// A small metadata member's data (and its padding).
    private func metadata(_ size: UInt64) async throws -> [UInt8] {
        guard size <= UInt64(Self.maxMetadata) else { throw GuesthouseError.invalid("the archive has a header of \(size) bytes") }
        let data = try await bytes.read(Int(size))
        try await bytes.skip(UInt64(Tar.padding(for: size)))
        return data
    }

    private func resolve(_ header: Tar.RawHeader, pax: [String: String], paxSparse: [UInt64],
                         longName: String?) async throws -> TarEntry {
        func number(_ key: String) throws -> UInt64? {
            guard let text = pax[key] else { return nil }
            guard let value = UInt64(text) else { throw GuesthouseError.invalid("the archive is corrupt (bad pax \(key))") }
            return value
        }
        var name = pax["GNU.sparse.name"] ?? pax["path"] ?? longName ?? header.name
        while name.hasPrefix("./") { name.removeFirst(2) }
        let stored = try number("size") ?? header.size
        var sparse = Sparse.none
        var size = stored
        if header.type == Tar.TypeFlag.gnuSparse {
            var extents = try SparseMap.oldGNUEntries(header.block[386..<482], count: 4)
            var extended = header.block[482] != 0
            while extended {
                let block = try await bytes.read(Tar.blockSize)
                extents += try SparseMap.oldGNUEntries(block[0..<504], count: 21)
                extended = block[504] != 0
            }
            guard let realSize = Tar.number(header.block[483..<495]) else {
                throw GuesthouseError.invalid("the archive is corrupt (bad sparse header)")
            }
            size = realSize
            sparse = .known(try SparseMap(realSize: realSize, extents: extents))
        } else if pax["GNU.sparse.major"] == "1", pax["GNU.sparse.minor"] == "0" {
            guard let realSize = try number("GNU.sparse.realsize") else {
                throw GuesthouseError.invalid("the archive is corrupt (sparse member without GNU.sparse.realsize)")
            }
            size = realSize
            sparse = .gnu1
        } else if let realSize = try number("GNU.sparse.size") ?? number("GNU.sparse.realsize"),
                  pax["GNU.sparse.map"] != nil || !paxSparse.isEmpty {
            let extents = try pax["GNU.sparse.map"].map(SparseMap.pax01Entries)
                ?? stride(from: 0, to: paxSparse.count - 1, by: 2).map {
                    SparseMap.Extent(offset: paxSparse[$0], length: paxSparse[$0 + 1])
                }
            size = realSize
            sparse = .known(try SparseMap(realSize: realSize, extents: extents))
        }
        let hasData = header.type != Tar.TypeFlag.directory && header.type != UInt8(ascii: "1")
            && header.type != UInt8(ascii: "2")
        unread = hasData ? stored : 0
        padding = hasData ? Tar.padding(for: stored) : 0
        let entry = TarEntry(name: name, type: header.type, size: size,
                             mtime: pax["mtime"].flatMap(PaxRecords.seconds) ?? header.mtime,
                             isSparse: { if case .none = sparse { false } else { true } }())
        current = (entry, sparse)
        return entry
    }

    /// Reads what follows the end of the archive to the end of the stream (record padding; a
    /// gzip stream's end and checksum), so a truncated or corrupt end is noticed.
    /// - Throws: `invalidArguments` for a truncated or corrupt gzip stream.
    public func finish() async throws {
        try await bytes.drain()
    }

    /// Reads the current member whole (at most `limit` bytes of file).
    /// - Throws: `invalidArguments` when it is larger.
    public func readSmall(limit: Int) async throws -> [UInt8] {
        guard let entry = current?.entry else { throw GuesthouseError(.internalError, "no current archive member") }
        guard entry.size <= UInt64(limit) else { throw GuesthouseError.invalid("archive member '\(entry.name)' is too large") }
        var out: [UInt8] = []
        try await readFile { piece in
            switch piece {
            case .data(let bytes): out += bytes
            case .hole(let length): out += [UInt8](repeating: 0, count: Int(length))
            }
        }
        return out
    }

    /// The current member's sparse map (a regular file: one extent). For GNU 1.0 this reads the
    /// map from the start of the data, so call it before `readFile`, or not at all.
    public func map() async throws -> SparseMap {
        guard let current else { throw GuesthouseError(.internalError, "no current archive member") }
        switch current.sparse {
        case .none: return .dense(current.entry.size)
        case .known(let map): return map
        case .gnu1:
            let map = try await readGNU1Map(realSize: current.entry.size)
            self.current = (current.entry, .known(map))
            return map
        }
    }

    /// Passes the current member's contents to `body`, from its start to its real size: data a
    /// chunk at a time, holes as their lengths.
    /// - Throws: `invalidArguments` for a truncated archive or a map that does not fit the data.
    public func readFile(_ body: (FilePiece) async throws -> Void) async throws {
        let map = try await self.map()
        var position: UInt64 = 0
        for extent in map.extents {
            if extent.offset > position { try await body(.hole(extent.offset - position)) }
            guard extent.length <= unread else { throw GuesthouseError.invalid("the archive is corrupt (sparse map past the member's data)") }
            unread -= extent.length
            try await bytes.stream(extent.length) { try await body(.data($0)) }
            position = extent.end
        }
        if map.realSize > position { try await body(.hole(map.realSize - position)) }
    }

    private func readGNU1Map(realSize: UInt64) async throws -> SparseMap {
        let start = bytes.position
        func decimal() async throws -> UInt64 {
            var digits: [UInt8] = []
            while true {
                guard bytes.position - start < UInt64(Self.maxMetadata), UInt64(digits.count) < 21, unread > 0 else {
                    throw GuesthouseError.invalid("the archive is corrupt (bad sparse map)")
                }
                let byte = try await bytes.byte()
                unread -= 1
                if byte == 10 { break }
                guard (48...57).contains(byte) else { throw GuesthouseError.invalid("the archive is corrupt (bad sparse map)") }
                digits.append(byte)
            }
            guard let value = UInt64(String(decoding: digits, as: UTF8.self)) else {
                throw GuesthouseError.invalid("the archive is corrupt (bad sparse map)")
            }
            return value
        }
        let count = try await decimal()
        var extents: [SparseMap.Extent] = []
        for _ in 0..<count {
            let offset = try await decimal()
            extents.append(SparseMap.Extent(offset: offset, length: try await decimal()))
        }
        let rest = UInt64(Tar.padding(for: bytes.position - start))
        guard rest <= unread else { throw GuesthouseError.invalid("the archive is corrupt (bad sparse map)") }
        try await bytes.skip(rest)
        unread -= rest
        return try SparseMap(realSize: realSize, extents: extents)
    }
}
