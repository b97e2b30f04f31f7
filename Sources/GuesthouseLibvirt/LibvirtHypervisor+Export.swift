import Foundation
import GuesthouseCore
import Libvirt

/// Export and import: a tar of `guesthouse.json`, `domain.xml` and each disk, streamed from and
/// into libvirt volumes in 1 MiB pieces, each piece one hop on the libvirt executor.
extension LibvirtHypervisor: GuestArchiving {
    static let chunkSize = 1 << 20

    private struct ExportDisk: Sendable {
        var pool: String
        var volume: String
        var entry: GuestArchiveManifest.Disk
    }

    public func exportGuest(guestID: String) async throws -> GuestExport {
        let (manifest, domainXML, disks) = try await withConnection("guest export") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            if try domain.isActive() {
                throw GuesthouseError.conflict("guest '\(domain.name)' is running; stop it to export it")
            }
            let tree = try Self.inactiveTree(domain)
            var disks: [ExportDisk] = []
            for element in (tree.child("devices")?.children("disk") ?? []) where (element["device"] ?? "disk") == "disk" {
                guard let target = element.child("target")?["dev"] else { continue }
                guard let volume = Self.volume(conn, for: element) else {
                    throw GuesthouseError.notImplemented("disk \(target) is not a storage volume; it cannot be exported")
                }
                let format = (try? XMLTree.parse(volume.xml()).path("target", "format")?["type"]) ?? nil
                let entry = GuestArchiveManifest.Disk(target: target, file: "disks/\(target).\(format ?? "raw")",
                                                      format: format ?? "raw", capacity: try volume.info().capacity,
                                                      size: try volume.physicalSize())
                disks.append(ExportDisk(pool: try volume.poolName(), volume: volume.name, entry: entry))
            }
            // Whether this driver streams volumes at all: better a 501 now than a broken archive later.
            if let first = disks.first {
                let stream = try Stream(connection: conn)
                try conn.storagePool(name: first.pool).volume(name: first.volume).download(into: stream, offset: 0, length: 1)
                stream.abort()
            }
            let manifest = GuestArchiveManifest(name: domain.name, disks: disks.map(\.entry))
            return (manifest, Array(tree.rendered().utf8), disks)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let manifestBytes = Array(try encoder.encode(manifest))
        func entryLength(_ size: UInt64) -> UInt64 { UInt64(Tar.blockSize) + size + UInt64(Tar.padding(for: size)) }
        let length = entryLength(UInt64(manifestBytes.count)) + entryLength(UInt64(domainXML.count))
            + disks.reduce(0) { $0 + entryLength($1.entry.size) } + UInt64(Tar.trailer.count)
        let hypervisor = self
        return GuestExport(name: manifest.name, length: length) { sink in
            for (name, bytes) in [(GuestArchiveManifest.entryName, manifestBytes), (GuestArchiveManifest.domainEntryName, domainXML)] {
                try await sink(Tar.header(name: name, size: UInt64(bytes.count)))
                try await sink(bytes + [UInt8](repeating: 0, count: Tar.padding(for: UInt64(bytes.count))))
            }
            for disk in disks {
                try await sink(Tar.header(name: disk.entry.file, size: disk.entry.size))
                try await hypervisor.download(disk, into: sink)
                let padding = Tar.padding(for: disk.entry.size)
                if padding > 0 { try await sink([UInt8](repeating: 0, count: padding)) }
            }
            try await sink(Tar.trailer)
        }
    }

    private func download(_ disk: ExportDisk, into sink: @Sendable ([UInt8]) async throws -> Void) async throws {
        let conn = try await pool.connection(uri: uri, credentials: credentials)
        let family = self.family
        let stream = try await executor.run {
            do {
                let stream = try Stream(connection: conn)
                try conn.storagePool(name: disk.pool).volume(name: disk.volume).download(into: stream)
                return stream
            } catch { throw LibvirtErrorMapping.map(error, operation: "volume download", family: family) }
        }
        var sent: UInt64 = 0
        do {
            while true {
                let chunk = try await executor.run {
                    var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
                    let n = try buffer.withUnsafeMutableBytes { try stream.receive(into: $0) }
                    return Array(buffer.prefix(n))
                }
                if chunk.isEmpty { break }
                guard sent + UInt64(chunk.count) <= disk.entry.size else {
                    throw GuesthouseError.hypervisor("volume \(disk.volume) grew while it was exported")
                }
                sent += UInt64(chunk.count)
                try await sink(chunk)
            }
            try await executor.run { try stream.finish() }
        } catch {
            stream.abort()
            throw error
        }
        guard sent == disk.entry.size else {
            throw GuesthouseError.hypervisor("volume \(disk.volume) gave \(sent) of \(disk.entry.size) bytes")
        }
    }

    public func importGuest(storage: String?, archive: AsyncThrowingStream<[UInt8], any Error>) async throws -> Guest {
        let reader = ArchiveReader(archive)
        guard let first = try await reader.nextEntry(), first.name == GuestArchiveManifest.entryName else {
            throw GuesthouseError.invalid("not a Guesthouse export: the archive does not start with \(GuestArchiveManifest.entryName)")
        }
        let manifest: GuestArchiveManifest
        do {
            manifest = try JSONDecoder().decode(GuestArchiveManifest.self, from: Data(try await reader.readSmall(first, limit: 1 << 20)))
        } catch let error as GuesthouseError {
            throw error
        } catch {
            throw GuesthouseError.invalid("the archive's \(GuestArchiveManifest.entryName) is not a manifest")
        }
        try Validation.name(manifest.name)
        guard let second = try await reader.nextEntry(), second.name == GuestArchiveManifest.domainEntryName else {
            throw GuesthouseError.invalid("the archive has no \(GuestArchiveManifest.domainEntryName) after its manifest")
        }
        let domainTree = try XMLTree.parse(String(decoding: try await reader.readSmall(second, limit: 4 << 20), as: UTF8.self))
        guard domainTree.name == "domain" else { throw GuesthouseError.invalid("the archive's domain.xml is not a domain") }
        for disk in manifest.disks {
            try Validation.name(disk.target, field: "disk target")
            guard disk.format == "qcow2" || disk.format == "raw" else {
                throw GuesthouseError.invalid("disk format '\(disk.format)' is not supported")
            }
        }

        // Volumes first; the domain is defined only when every byte arrived.
        let name = manifest.name
        let volumes: [(pool: String, volume: String, path: String)] = try await withConnection("guest import") { conn in
            if (try? conn.domain(name: name)) != nil {
                throw GuesthouseError.conflict("a guest named '\(name)' already exists")
            }
            let pool = try storage.map { try Self.lookupPool(conn, id: $0) } ?? Self.defaultPool(conn)
            var made: [(pool: String, volume: String, path: String)] = []
            do {
                for (index, disk) in manifest.disks.enumerated() {
                    var volumeName = "\(name)-disk\(index).\(disk.format)"
                    if (try? pool.volume(name: volumeName)) != nil { volumeName = "\(name)-\(UUID().uuidString.prefix(8))-disk\(index).\(disk.format)" }
                    let volume = try pool.createVolume(xml: VolumeXML.render(name: volumeName, capacityBytes: disk.capacity,
                                                                             format: disk.format))
                    made.append((pool.name, volumeName, try volume.path()))
                }
            } catch {
                for v in made { try? conn.storagePool(name: v.pool).volume(name: v.volume).delete() }
                throw error
            }
            return made
        }
        do {
            for (disk, volume) in zip(manifest.disks, volumes) {
                guard let entry = try await reader.nextEntry(), entry.name == disk.file, entry.size == disk.size else {
                    throw GuesthouseError.invalid("the archive does not hold \(disk.file) as its manifest says")
                }
                try await upload(reader, entry: entry, pool: volume.pool, volume: volume.volume)
                _ = try await reader.read(Tar.padding(for: entry.size))
            }
            let paths = Dictionary(uniqueKeysWithValues: zip(manifest.disks.map(\.target), volumes.map(\.path)))
            let definition = Self.importDefinition(domainTree, name: name, paths: paths)
            return try await withConnection("guest import") { conn in
                let defined = try conn.defineDomain(xml: definition.rendered())
                return try GuestReader(conn: conn).guest(defined)
            }
        } catch {
            _ = try? await withConnection("guest import cleanup") { conn in
                for v in volumes { try? conn.storagePool(name: v.pool).volume(name: v.volume).delete() }
            }
            throw error
        }
    }

    private func upload(_ reader: ArchiveReader, entry: Tar.Entry, pool poolName: String, volume: String) async throws {
        let conn = try await pool.connection(uri: uri, credentials: credentials)
        let family = self.family
        let stream = try await executor.run {
            do {
                let stream = try Stream(connection: conn)
                try conn.storagePool(name: poolName).volume(name: volume).upload(from: stream, offset: 0, length: entry.size)
                return stream
            } catch { throw LibvirtErrorMapping.map(error, operation: "volume upload", family: family) }
        }
        do {
            try await reader.stream(entry.size) { chunk in
                try await executor.run {
                    do {
                        try chunk.withUnsafeBytes { try stream.send($0) }
                    } catch { throw LibvirtErrorMapping.map(error, operation: "volume upload", family: family) }
                }
            }
            try await executor.run {
                do { try stream.finish() } catch { throw LibvirtErrorMapping.map(error, operation: "volume upload", family: family) }
            }
        } catch {
            stream.abort()
            throw error
        }
    }

    /// The exported definition with a fresh UUID, fresh MACs (an import may sit next to its
    /// original) and the disks pointing at the new volumes.
    static func importDefinition(_ tree: XMLTree, name: String, paths: [String: String]) -> XMLTree {
        cloneDefinition(tree, name: name, copies: paths)
    }
}
