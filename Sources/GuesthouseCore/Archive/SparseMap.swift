/// Where a sparse file holds data: extents of data, everything else a hole (reads as zeros).
public struct SparseMap: Sendable, Equatable {
    /// One run of data: `length` bytes at `offset` of the file.
    public struct Extent: Sendable, Equatable {
        public var offset: UInt64
        public var length: UInt64
        public init(offset: UInt64, length: UInt64) {
            self.offset = offset
            self.length = length
        }
        public var end: UInt64 { offset + length }
    }

    /// The file's size, holes included.
    public var realSize: UInt64
    /// Data extents, ascending, not overlapping; zero-length ones are dropped.
    public private(set) var extents: [Extent]

    /// - Throws: `invalidArguments` when extents overlap, run backwards or pass `realSize`.
    public init(realSize: UInt64, extents: [Extent]) throws {
        self.realSize = realSize
        self.extents = []
        var end: UInt64 = 0
        for extent in extents where extent.length > 0 {
            let (last, overflow) = extent.offset.addingReportingOverflow(extent.length)
            guard !overflow, extent.offset >= end, last <= realSize else {
                throw GuesthouseError.invalid("the archive is corrupt (bad sparse map)")
            }
            if let previous = self.extents.last, previous.end == extent.offset {
                self.extents[self.extents.count - 1].length += extent.length
            } else {
                self.extents.append(extent)
            }
            end = last
        }
    }

    /// A file with no holes.
    public static func dense(_ size: UInt64) -> SparseMap {
        // swiftlint:disable:next force_try
        try! SparseMap(realSize: size, extents: [Extent(offset: 0, length: size)])
    }

    /// The same file with every extent widened to whole 512-byte blocks (within the real size).
    /// GNU tar stores each extent padded to whole blocks while libarchive stores them back to back;
    /// with block-aligned extents the two agree, so archives use this map.
    public func blockAligned() -> SparseMap {
        let block = UInt64(Tar.blockSize)
        let widened = extents.map { extent -> Extent in
            let start = extent.offset / block * block
            let end = min(realSize, (extent.end + block - 1) / block * block)
            return Extent(offset: start, length: end - start)
        }
        var merged: [Extent] = []
        for extent in widened {
            if let last = merged.last, extent.offset <= last.end {
                merged[merged.count - 1].length = max(last.end, extent.end) - last.offset
            } else {
                merged.append(extent)
            }
        }
        // swiftlint:disable:next force_try
        return try! SparseMap(realSize: realSize, extents: merged)
    }

    /// The bytes of data (what an archive stores).
    public var dataSize: UInt64 { extents.reduce(0) { $0 + $1.length } }

    /// The GNU sparse 1.0 map as it starts a member's data: the number of entries, then offset and
    /// length of each, one decimal per line, padded with NULs to whole blocks. Like GNU tar, a
    /// file that ends in a hole gets a last empty entry at its end, so readers size it right.
    public func gnu1Map() -> [UInt8] {
        var entries = extents.map { ($0.offset, $0.length) }
        if (extents.last?.end ?? 0) < realSize || extents.isEmpty { entries.append((realSize, 0)) }
        var text = "\(entries.count)\n"
        for (offset, length) in entries { text += "\(offset)\n\(length)\n" }
        var bytes = Array(text.utf8)
        bytes += [UInt8](repeating: 0, count: Tar.padding(for: UInt64(bytes.count)))
        return bytes
    }

    /// Reads extents from the 4-entry arrays of an old GNU sparse header ('S') or its extension
    /// blocks: 12 bytes offset, 12 bytes length each, unused entries empty.
    static func oldGNUEntries(_ block: ArraySlice<UInt8>, count: Int) throws -> [Extent] {
        var out: [Extent] = []
        var at = block.startIndex
        for _ in 0..<count {
            let offsetField = block[at..<(at + 12)], lengthField = block[(at + 12)..<(at + 24)]
            at += 24
            if offsetField.allSatisfy({ $0 == 0 }) { break }
            guard let offset = Tar.number(offsetField), let length = Tar.number(lengthField) else {
                throw GuesthouseError.invalid("the archive is corrupt (bad sparse header)")
            }
            out.append(Extent(offset: offset, length: length))
        }
        return out
    }

    /// Extents from pax sparse 0.1 (`GNU.sparse.map` = "offset,length,offset,length...").
    static func pax01Entries(_ value: String) throws -> [Extent] {
        let numbers = value.split(separator: ",").map { UInt64($0) }
        guard numbers.count % 2 == 0, numbers.allSatisfy({ $0 != nil }) else {
            throw GuesthouseError.invalid("the archive is corrupt (bad GNU.sparse.map)")
        }
        return stride(from: 0, to: numbers.count, by: 2).map { Extent(offset: numbers[$0]!, length: numbers[$0 + 1]!) }
    }
}

/// Walks a file from its start against a `SparseMap`: which of the next bytes are data the archive
/// stores and which fall in holes.
public struct SparseMapCursor: Sendable {
    public let map: SparseMap
    private var index = 0
    /// How far into the file the cursor is.
    public private(set) var position: UInt64 = 0

    public init(_ map: SparseMap) { self.map = map }

    /// Splits the next `count` bytes into runs, each in the map's data or in a hole, in order.
    /// - Throws: `invalidArguments` when that passes the file's real size.
    public mutating func advance(_ count: UInt64) throws -> [(length: UInt64, isData: Bool)] {
        guard count <= map.realSize - position else {
            throw GuesthouseError.invalid("more bytes than the file's size (\(map.realSize))")
        }
        var runs: [(length: UInt64, isData: Bool)] = []
        var left = count
        while left > 0 {
            while index < map.extents.count, map.extents[index].end <= position { index += 1 }
            let take: UInt64, isData: Bool
            if index < map.extents.count, map.extents[index].offset <= position {
                take = min(left, map.extents[index].end - position)
                isData = true
            } else {
                let next = index < map.extents.count ? map.extents[index].offset : map.realSize
                take = min(left, next - position)
                isData = false
            }
            if let last = runs.last, last.isData == isData {
                runs[runs.count - 1].length += take
            } else {
                runs.append((take, isData))
            }
            position += take
            left -= take
        }
        return runs
    }
}
