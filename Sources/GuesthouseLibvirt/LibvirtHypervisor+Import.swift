import Foundation
import GuesthouseCore
import Libvirt

/// Import: reads any archive `TarReader` reads (what exports write, and GNU tar's or bsdtar's
/// repacks: pax or GNU format, sparse or not, gzipped or not); `guesthouse.json` then `domain.xml`
/// first, the disks in any order. Checks the pool's free space against the disks' data before
/// anything is written, writes each disk through a sparse upload (holes stay holes), and defines
/// the domain only when every byte arrived. Any failure deletes the volumes it made.
extension LibvirtHypervisor {
    public func importGuest(storage: String?, archive: AsyncThrowingStream<[UInt8], any Error>,
                            progress: TransferProgressReport?) async throws -> Guest {
        let reader = TarReader(archive)
        guard let first = try await Self.nextFile(reader), first.name == GuestArchiveManifest.entryName else {
            throw GuesthouseError.invalid("not a Guesthouse export: the archive does not start with \(GuestArchiveManifest.entryName)")
        }
        let manifest: GuestArchiveManifest
        do {
            manifest = try JSONDecoder().decode(GuestArchiveManifest.self, from: Data(try await reader.readSmall(limit: 1 << 20)))
        } catch let error as GuesthouseError {
            throw error
        } catch {
            throw GuesthouseError.invalid("the archive's \(GuestArchiveManifest.entryName) is not a manifest")
        }
        try Validation.name(manifest.name)
        guard let second = try await Self.nextFile(reader), second.name == GuestArchiveManifest.domainEntryName else {
            throw GuesthouseError.invalid("the archive has no \(GuestArchiveManifest.domainEntryName) after its manifest")
        }
        let domainTree = try XMLTree.parse(String(decoding: try await reader.readSmall(limit: 4 << 20), as: UTF8.self))
        guard domainTree.name == "domain" else { throw GuesthouseError.invalid("the archive's domain.xml is not a domain") }
        for disk in manifest.disks {
            try Validation.name(disk.target, field: "disk target")
            guard disk.format == "qcow2" || disk.format == "raw" else {
                throw GuesthouseError.invalid("disk format '\(disk.format)' is not supported")
            }
        }
        guard Set(manifest.disks.map(\.file)).count == manifest.disks.count,
              Set(manifest.disks.map(\.target)).count == manifest.disks.count else {
            throw GuesthouseError.invalid("the manifest names a disk twice")
        }

        // Volumes first (after the room check); the domain is defined only when every byte arrived.
        let name = manifest.name
        let volumes: [(ref: VolumeRef, path: String)] = try await withConnection("guest import") { conn in
            if (try? conn.domain(name: name)) != nil {
                throw GuesthouseError.conflict("a guest named '\(name)' already exists")
            }
            let pool = try storage.map { try Self.lookupPool(conn, id: $0) } ?? Self.defaultPool(conn)
            try Self.checkRoom(pool, for: manifest)
            var made: [(ref: VolumeRef, path: String)] = []
            do {
                for (index, disk) in manifest.disks.enumerated() {
                    var volumeName = "\(name)-disk\(index).\(disk.format)"
                    if (try? pool.volume(name: volumeName)) != nil { volumeName = "\(name)-\(UUID().uuidString.prefix(8))-disk\(index).\(disk.format)" }
                    let volume = try pool.createVolume(xml: VolumeXML.render(name: volumeName, capacityBytes: disk.capacity,
                                                                             format: disk.format, allocationBytes: 0))
                    made.append((VolumeRef(pool: pool.name, volume: volumeName), try volume.path()))
                }
            } catch {
                for v in made { try? conn.storagePool(name: v.ref.pool).volume(name: v.ref.volume).delete() }
                throw error
            }
            return made
        }
        do {
            let total = manifest.disks.reduce(0) { $0 + $1.size }
            var done: UInt64 = 0
            var pending = Dictionary(uniqueKeysWithValues: zip(manifest.disks.map(\.file), zip(manifest.disks, volumes.map(\.ref))))
            while let entry = try await Self.nextFile(reader) {
                guard let (disk, ref) = pending.removeValue(forKey: entry.name) else { continue }
                guard entry.size == disk.size else {
                    throw GuesthouseError.invalid("the archive's \(disk.file) has \(entry.size) bytes; its manifest says \(disk.size)")
                }
                try await writeVolume(ref, length: entry.size) { put in
                    try await reader.readFile { piece in
                        try await put(piece)
                        switch piece {
                        case .data(let bytes): done += UInt64(bytes.count)
                        case .hole(let length): done += length
                        }
                        progress?(done, total)
                    }
                }
            }
            try await reader.finish()
            if let missing = pending.keys.sorted().first {
                throw GuesthouseError.invalid("the archive does not hold \(missing) as its manifest says")
            }
            let paths = Dictionary(uniqueKeysWithValues: zip(manifest.disks.map(\.target), volumes.map(\.path)))
            let definition = Self.importDefinition(domainTree, name: name, paths: paths)
            return try await withConnection("guest import") { conn in
                let defined = try conn.defineDomain(xml: definition.rendered())
                return try GuestReader(conn: conn).guest(defined)
            }
        } catch {
            _ = try? await withConnection("guest import cleanup") { conn in
                for v in volumes { try? conn.storagePool(name: v.ref.pool).volume(name: v.ref.volume).delete() }
            }
            throw error
        }
    }

    /// The next regular file of the archive (directories and other members skipped), nil at its end.
    static func nextFile(_ reader: TarReader) async throws -> TarEntry? {
        while let entry = try await reader.next() {
            if entry.isFile { return entry }
        }
        return nil
    }

    /// Refuses (409 `OperationNotAllowed`, naming the pool, its free and the needed bytes) an import
    /// whose disks' data does not fit in the pool's available space. The measure is the bytes the
    /// archive stores for each disk (`allocated`; all of it for archives without that), which is what
    /// a sparse upload writes.
    static func checkRoom(_ pool: StoragePool, for manifest: GuestArchiveManifest) throws {
        try? pool.refresh()
        let available = try pool.info().available
        let needed = manifest.disks.reduce(0) { $0 + $1.needed }
        guard needed <= available else {
            throw GuesthouseError.conflict("storage pool '\(pool.name)' has \(available) bytes free; the archive's disks need \(needed) bytes")
        }
    }

    /// The exported definition with a fresh UUID, fresh MACs (an import may sit next to its
    /// original) and the disks pointing at the new volumes.
    static func importDefinition(_ tree: XMLTree, name: String, paths: [String: String]) -> XMLTree {
        cloneDefinition(tree, name: name, copies: paths)
    }
}
