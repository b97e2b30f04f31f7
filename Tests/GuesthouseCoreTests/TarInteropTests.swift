import Foundation
import GuesthouseCore
import GuesthouseTestSupport
import Testing

/// A scratch directory with a sparse file of `size` bytes holding `writes` (offset, bytes), made
/// with truncate and dd-like writes; removed afterwards.
private struct SparseFixture {
    let dir: URL
    let writes: [(UInt64, [UInt8])]
    let size: UInt64

    static func with(size: UInt64, writes: [(UInt64, [UInt8])], _ body: (SparseFixture) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ghtar-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("disks"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = SparseFixture(dir: dir, writes: writes, size: size)
        let path = dir.appendingPathComponent("disks/vda.raw").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: size)
        for (offset, bytes) in writes {
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data(bytes))
        }
        try handle.close()
        try await body(fixture)
    }

    var map: SparseMap {
        get throws { try SparseMap(realSize: size, extents: writes.map { .init(offset: $0.0, length: UInt64($0.1.count)) }) }
    }

    /// Checks that `pieces` are this file: the writes where they are, zeros elsewhere.
    func matches(_ pieces: [FilePiece]) -> Bool {
        var position: UInt64 = 0
        for piece in pieces {
            switch piece {
            case .hole(let length):
                if writes.contains(where: { $0.0 < position + length && $0.0 + UInt64($0.1.count) > position }) { return false }
                position += length
            case .data(let bytes):
                for (i, byte) in bytes.enumerated() {
                    let at = position + UInt64(i)
                    let expected = writes.first { $0.0 <= at && at < $0.0 + UInt64($0.1.count) }.map { $0.1[Int(at - $0.0)] } ?? 0
                    if byte != expected { return false }
                }
                position += UInt64(bytes.count)
            }
        }
        return position == size
    }
}

/// A tool run in `dir`; its output (throws when it fails).
private func run(_ tool: String, _ arguments: [String], in dir: URL? = nil) throws -> String {
    try Daemon.run(tool, arguments, in: dir?.path)
}


/// A file as the chunk stream a request body gives.
private func chunks(of path: String, size: Int = 64 << 10) throws -> AsyncThrowingStream<[UInt8], any Error> {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    return AsyncThrowingStream {
        let data = try handle.read(upToCount: size) ?? Data()
        return data.isEmpty ? nil : Array(data)
    }
}

/// Every regular file of an archive: name, size, whether sparse, and its pieces (holes merged).
private func readAll(_ path: String) async throws -> [(entry: TarEntry, pieces: [FilePiece])] {
    let reader = TarReader(try chunks(of: path))
    var out: [(TarEntry, [FilePiece])] = []
    while let entry = try await reader.next() {
        guard entry.isFile else { continue }
        var pieces: [FilePiece] = []
        try await reader.readFile { pieces.append($0) }
        out.append((entry, pieces))
    }
    try await reader.finish()
    return out
}

/// A file read as its data extents (`lseek` SEEK_DATA/SEEK_HOLE) and holes, without reading the holes.
private func filePieces(_ path: String) throws -> [FilePiece] {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    let fd = handle.fileDescriptor
    let size = UInt64(lseek(fd, 0, SEEK_END))
    var pieces: [FilePiece] = []
    var position: UInt64 = 0
    while position < size {
        let data = lseek(fd, off_t(position), 3)  // SEEK_DATA
        if data < 0 { break }
        let hole = UInt64(lseek(fd, data, 4))  // SEEK_HOLE
        if UInt64(data) > position { pieces.append(.hole(UInt64(data) - position)) }
        try handle.seek(toOffset: UInt64(data))
        pieces.append(.data(Array(try handle.read(upToCount: Int(hole - UInt64(data))) ?? Data())))
        position = hole
    }
    if size > position { pieces.append(.hole(size - position)) }
    return pieces
}

private let past8GiB: UInt64 = 8 << 30 + 4096 * 3
private let writes: [(UInt64, [UInt8])] = [(0, Array("boot sector".utf8)), (1 << 20, [UInt8](repeating: 0xAB, count: 70_000)),
                                           (past8GiB, Array("past eight gibibytes".utf8))]

@Suite struct TarInteropTests {
    @Test func gnuTarAndBsdtarExtractOurSparseMembersWithTheirHoles() async throws {
        try await SparseFixture.with(size: 9 << 30, writes: writes) { f in
            let longName = "disks/" + String(repeating: "l", count: 120) + ".raw"
            var archive = TarMember.small(name: "guesthouse.json", bytes: Array("{}".utf8), mtime: (1_700_000_000, 250_000_000))
            archive += TarMember.small(name: longName, bytes: Array("long".utf8))
            let member = TarMember(name: "disks/vda.raw", sparse: try f.map)
            archive += member.header
            let file = try FileHandle(forReadingFrom: f.dir.appendingPathComponent("disks/vda.raw"))
            for extent in member.map.extents {
                try file.seek(toOffset: extent.offset)
                archive += try file.read(upToCount: Int(extent.length)) ?? Data()
            }
            archive += [UInt8](repeating: 0, count: member.padding) + Tar.trailer
            #expect(UInt64(archive.count) < 1 << 20)
            let path = f.dir.appendingPathComponent("ours.tar").path
            try Data(archive).write(to: URL(fileURLWithPath: path))

            let gnuList = try run("/usr/bin/tar", ["-tvf", path])
            #expect(gnuList.contains(" \(9 << 30) ") && gnuList.contains("disks/vda.raw"))
            #expect(gnuList.contains(longName))
            #expect(gnuList.contains("2023-11-14"))  // the pax mtime
            let bsdList = try run("/usr/bin/bsdtar", ["-tvf", path])
            #expect(bsdList.contains(" \(9 << 30) ") && bsdList.contains("disks/vda.raw"))

            for tool in ["/usr/bin/tar", "/usr/bin/bsdtar"] {
                let out = f.dir.appendingPathComponent("x-" + URL(fileURLWithPath: tool).lastPathComponent)
                try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                _ = try run(tool, ["-xf", path, "-C", out.path])
                let extracted = out.appendingPathComponent("disks/vda.raw").path
                #expect(f.matches(try filePieces(extracted)), "\(tool) extracted other bytes")
                let kib = Int(try run("/usr/bin/du", ["-k", extracted]).split(separator: "\t").first ?? "") ?? .max
                #expect(kib < 1024, "\(tool) extracted \(kib) KiB: the holes were filled")
                #expect(try String(contentsOfFile: out.appendingPathComponent(longName).path, encoding: .utf8) == "long")
            }
        }
    }

    @Test func ourSparseHeadersAreWhatGnuTarWritesForTheSameFile() async throws {
        try await SparseFixture.with(size: 9 << 30, writes: writes) { f in
            let path = f.dir.appendingPathComponent("gnu.tar").path
            _ = try run("/usr/bin/tar", ["--format=pax", "--sparse", "-cf", path, "disks/vda.raw"], in: f.dir)
            let gnu = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            // GNU tar's map: the file system's data blocks (4 KiB granules) of the same file.
            let gnuRecords = try PaxRecords.decode(Array(gnu[512..<(512 + Int(Tar.parseHeader(Array(gnu[0..<512]))!.size))]))
            let realSize = gnuRecords.first { $0.0 == "GNU.sparse.realsize" }?.1
            #expect(gnuRecords.filter { $0.0.hasPrefix("GNU.sparse.") }.map(\.0)
                    == ["GNU.sparse.major", "GNU.sparse.minor", "GNU.sparse.name", "GNU.sparse.realsize"])
            let ustar = try #require(try Tar.parseHeader(Array(gnu[1024..<1536])))
            #expect(ustar.type == Tar.TypeFlag.file && ustar.name.contains("GNUSparseFile."))
            let gnuMapText = String(decoding: gnu[1536..<2048].prefix { $0 != 0 }, as: UTF8.self)
            let numbers = gnuMapText.split(separator: "\n").compactMap { UInt64($0) }
            let extents = stride(from: 1, to: numbers.count - 1, by: 2).map { SparseMap.Extent(offset: numbers[$0], length: numbers[$0 + 1]) }
            let map = try SparseMap(realSize: 9 << 30, extents: extents)

            let ours = TarMember(name: "disks/vda.raw", sparse: map).header
            let ourRecords = try PaxRecords.decode(Array(ours[512..<(512 + Int(Tar.parseHeader(Array(ours[0..<512]))!.size))]))
            #expect(ourRecords.filter { $0.0.hasPrefix("GNU.sparse.") }.map { "\($0.0)=\($0.1)" }
                    == gnuRecords.filter { $0.0.hasPrefix("GNU.sparse.") }.map { "\($0.0)=\($0.1)" })
            #expect(realSize == String(9 << 30))
            #expect(Array(ours[1536..<2048]) == Array(gnu[1536..<2048]), "the map blocks differ")
            let ourUstar = try #require(try Tar.parseHeader(Array(ours[1024..<1536])))
            #expect(ourUstar.size == ustar.size && ourUstar.type == ustar.type)
        }
    }

    @Test func weReadWhatGnuTarAndBsdtarWriteSparseOrNotCompressedOrNot() async throws {
        try await SparseFixture.with(size: 9 << 30, writes: writes) { f in
            let longName = "disks/" + String(repeating: "n", count: 130)
            try Data("named at length".utf8).write(to: f.dir.appendingPathComponent(longName))
            let variants: [(String, [String])] = [
                ("/usr/bin/tar", ["--format=pax", "--sparse"]),
                ("/usr/bin/tar", ["--format=pax", "--sparse", "--sparse-version=0.1"]),
                ("/usr/bin/tar", ["--format=pax", "--sparse", "--sparse-version=0.0"]),
                ("/usr/bin/tar", ["--format=gnu", "--sparse"]),
                ("/usr/bin/tar", ["--format=pax", "--sparse", "-z"]),
                ("/usr/bin/tar", ["--format=gnu", "--sparse", "-z"]),
                ("/usr/bin/bsdtar", ["--format=pax"]),
                ("/usr/bin/bsdtar", ["--format=pax", "-z"]),
            ]
            for (index, (tool, flags)) in variants.enumerated() {
                let path = f.dir.appendingPathComponent("v\(index).tar").path
                _ = try run(tool, flags + ["-cf", path, "disks"], in: f.dir)
                let members = try await readAll(path)
                let disk = try #require(members.first { $0.entry.name == "disks/vda.raw" }, "\(tool) \(flags)")
                #expect(disk.entry.size == 9 << 30, "\(tool) \(flags)")
                #expect(disk.entry.isSparse, "\(tool) \(flags)")
                #expect(f.matches(disk.pieces), "\(tool) \(flags)")
                let long = try #require(members.first { $0.entry.name == longName }, "\(tool) \(flags)")
                #expect(long.pieces == [.data(Array("named at length".utf8))], "\(tool) \(flags)")
            }
            // Plain ustar, no extensions at all.
            try Data("small".utf8).write(to: f.dir.appendingPathComponent("disks/small.txt"))
            let plain = f.dir.appendingPathComponent("ustar.tar").path
            _ = try run("/usr/bin/tar", ["--format=ustar", "-cf", plain, "./disks/small.txt"], in: f.dir)
            let members = try await readAll(plain)
            #expect(members.map(\.entry.name) == ["disks/small.txt"])
            #expect(members.first?.pieces == [.data(Array("small".utf8))])
            #expect(members.first?.entry.isSparse == false)
        }
    }

    @Test func truncatedAndCorruptArchivesAreInvalid() async throws {
        try await SparseFixture.with(size: 9 << 30, writes: writes) { f in
            let path = f.dir.appendingPathComponent("gnu.tar").path
            _ = try run("/usr/bin/tar", ["--format=pax", "--sparse", "-czf", path, "disks/vda.raw"], in: f.dir)
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            for cut in [10, whole.count / 3, whole.count / 2, whole.count - 10] {
                let short = f.dir.appendingPathComponent("cut.tar").path
                try whole.prefix(cut).write(to: URL(fileURLWithPath: short))
                await #expect(throws: GuesthouseError.self, "cut at \(cut)") { _ = try await readAll(short) }
            }
            var corrupt = whole
            corrupt[corrupt.count / 2] ^= 0xFF
            let bad = f.dir.appendingPathComponent("bad.tar").path
            try corrupt.write(to: URL(fileURLWithPath: bad))
            await #expect(throws: GuesthouseError.self) { _ = try await readAll(bad) }
        }
    }

    @Test func paxRecordsCountTheirOwnLength() throws {
        #expect(PaxRecords.record("path", "a") == Array("9 path=a\n".utf8))
        // " path=" + 91 bytes + "\n" is 98: with two digits 100, so three: 101.
        let long = PaxRecords.record("path", String(repeating: "x", count: 91))
        #expect(long.count == 101 && long.starts(with: Array("101 ".utf8)))
        #expect(try PaxRecords.decode(long + PaxRecords.record("size", "9663676416")).map(\.1).last == "9663676416")
    }

    @Test func sizesPast8GiBGoInPaxRecords() throws {
        let member = TarMember(name: "disks/vda.raw", size: 20 << 30)
        let records = try PaxRecords.decode(Array(member.header[512..<1024].prefix { $0 != 0 }))
        #expect(records.contains { $0 == ("size", String(20 << 30)) })
        #expect(member.archiveLength == 1536 + (20 << 30))
    }
}
