/// One regular member of a POSIX pax archive as Guesthouse writes it: a pax extended header (exact
/// mtime; size past 8 GiB; names past 100 bytes), the ustar header, and for sparse members GNU's
/// sparse format 1.0 (pax records `GNU.sparse.major=1`, `minor=0`, `name`, `realsize`, the map at
/// the start of the member's data). GNU tar and bsdtar extract such members with their holes.
public struct TarMember: Sendable, Equatable {
    public var name: String
    /// Modification time, seconds and nanoseconds since the epoch.
    public var mtime: (seconds: UInt64, nanoseconds: UInt32)
    /// The file's data and holes; a regular file is one extent.
    public var map: SparseMap
    /// Written as a GNU sparse member (else the whole file is stored).
    public var isSparse: Bool

    /// A regular (dense) member of `size` bytes.
    public init(name: String, size: UInt64, mtime: (seconds: UInt64, nanoseconds: UInt32) = (0, 0)) {
        self.name = name
        self.mtime = mtime
        self.map = .dense(size)
        self.isSparse = false
    }

    /// A sparse member: only `map`'s data is stored, its extents widened to whole blocks (see
    /// `SparseMap.blockAligned`): write the data of `self.map`, not of `map`.
    public init(name: String, sparse map: SparseMap, mtime: (seconds: UInt64, nanoseconds: UInt32) = (0, 0)) {
        self.name = name
        self.mtime = mtime
        self.map = map.blockAligned()
        self.isSparse = true
    }

    public static func == (a: TarMember, b: TarMember) -> Bool {
        a.name == b.name && a.mtime == b.mtime && a.map == b.map && a.isSparse == b.isSparse
    }

    /// The data bytes that follow `header` (without padding).
    public var dataSize: UInt64 { map.dataSize }

    /// Everything before the member's data: the pax header member, the ustar header and, for a
    /// sparse member, its map blocks.
    public var header: [UInt8] {
        let sparseMap = isSparse ? map.gnu1Map() : []
        let stored = UInt64(sparseMap.count) + dataSize
        let (dir, base) = Self.split(name)
        var records: [(String, String)] = []
        let ustarName: String
        if isSparse {
            records += [("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", name),
                        ("GNU.sparse.realsize", String(map.realSize))]
            ustarName = dir + "GNUSparseFile.0/" + base
        } else {
            if name.utf8.count > 100 || !name.utf8.allSatisfy({ $0 < 0x80 }) { records.append(("path", name)) }
            ustarName = name
        }
        if stored > Tar.maxOctalSize { records.append(("size", String(stored))) }
        records.append(("mtime", Self.paxTime(mtime)))
        let pax = PaxRecords.encode(records)
        var out = Tar.header(name: dir + "PaxHeaders/" + base, size: UInt64(pax.count), mtime: mtime.seconds,
                             type: Tar.TypeFlag.paxExtended)
        out += pax + [UInt8](repeating: 0, count: Tar.padding(for: UInt64(pax.count)))
        out += Tar.header(name: ustarName, size: stored, mtime: mtime.seconds)
        return out + sparseMap
    }

    /// Zero bytes after the data, to a whole block.
    public var padding: Int { Tar.padding(for: dataSize) }

    /// The member's length in the archive: headers, map, data and padding.
    public var archiveLength: UInt64 { UInt64(header.count) + dataSize + UInt64(padding) }

    /// A whole small member: headers, `bytes`, padding.
    public static func small(name: String, bytes: [UInt8], mtime: (seconds: UInt64, nanoseconds: UInt32) = (0, 0)) -> [UInt8] {
        let member = TarMember(name: name, size: UInt64(bytes.count), mtime: mtime)
        return member.header + bytes + [UInt8](repeating: 0, count: member.padding)
    }

    static func split(_ name: String) -> (dir: String, base: String) {
        guard let slash = name.lastIndex(of: "/") else { return ("", name) }
        return (String(name[...slash]), String(name[name.index(after: slash)...]))
    }

    static func paxTime(_ t: (seconds: UInt64, nanoseconds: UInt32)) -> String {
        guard t.nanoseconds > 0 else { return String(t.seconds) }
        var fraction = String(t.nanoseconds)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(t.seconds).\(fraction)"
    }
}
