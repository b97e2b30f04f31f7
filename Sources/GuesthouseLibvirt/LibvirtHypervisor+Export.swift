import Foundation
import GuesthouseCore
import Libvirt

/// Export: a POSIX pax tar of `guesthouse.json`, `domain.xml` and each disk as a GNU sparse 1.0
/// member, streamed from libvirt sparse streams. Each disk's data map is read before the archive
/// starts (the map precedes the member's data, and the response's length follows from the maps):
/// from the file itself when the volume is a local file (`lseek` SEEK_DATA/SEEK_HOLE, no data
/// read), else by a first pass over its sparse stream.
extension LibvirtHypervisor: GuestArchiving {
    private struct ExportDisk: Sendable {
        var ref: VolumeRef
        var path: String?
        var entry: GuestArchiveManifest.Disk
    }

    public func exportGuest(guestID: String) async throws -> GuestExport {
        let (name, domainXML, found) = try await withConnection("guest export") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            if try domain.isActive() {
                throw GuesthouseError.conflict("guest '\(domain.name)' is running; stop it to export it")
            }
            let tree = try Self.inactiveTree(domain)
            var disks: [ExportDisk] = []
            for element in (tree.child("devices")?.children("disk") ?? []) where (element["device"] ?? "disk") == "disk" {
                guard let target = element.child("target")?["dev"] else { continue }
                guard let volume = Self.volume(conn, for: element) else {
                    throw GuesthouseError.conflict("disk \(target) is not a storage volume; it cannot be exported")
                }
                let format = (try? XMLTree.parse(volume.xml()).path("target", "format")?["type"]) ?? nil
                let info = try volume.info()
                let entry = GuestArchiveManifest.Disk(target: target, file: "disks/\(target).\(format ?? "raw")",
                                                      format: format ?? "raw", capacity: info.capacity,
                                                      size: try volume.physicalSize())
                disks.append(ExportDisk(ref: VolumeRef(pool: try volume.poolName(), volume: volume.name),
                                        path: info.isFile ? try? volume.path() : nil, entry: entry))
            }
            // Whether this driver streams volumes at all: better a 501 now than a broken archive later.
            if let first = disks.first {
                let stream = try Stream(connection: conn)
                try conn.storagePool(name: first.ref.pool).volume(name: first.ref.volume).download(into: stream, offset: 0, length: 1)
                stream.abort()
            }
            return (domain.name, Array(tree.rendered().utf8), disks)
        }
        var planned: [(disk: ExportDisk, member: TarMember)] = []
        let now = Date().timeIntervalSince1970
        let mtime = (seconds: UInt64(now), nanoseconds: UInt32((now - now.rounded(.down)) * 1e9))
        for var disk in found {
            let map = try await dataMap(disk.ref, path: disk.path, size: disk.entry.size)
            let member = TarMember(name: disk.entry.file, sparse: map, mtime: mtime)
            disk.entry.allocated = member.dataSize
            planned.append((disk, member))
        }
        let disks = planned
        let manifest = GuestArchiveManifest(name: name, disks: disks.map(\.disk.entry))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let head = TarMember.small(name: GuestArchiveManifest.entryName, bytes: Array(try encoder.encode(manifest)), mtime: mtime)
            + TarMember.small(name: GuestArchiveManifest.domainEntryName, bytes: domainXML, mtime: mtime)
        let length = UInt64(head.count) + disks.reduce(0) { $0 + $1.member.archiveLength } + UInt64(Tar.trailer.count)
        let hypervisor = self
        return GuestExport(name: name, length: length) { sink in
            try await sink(head)
            for (disk, member) in disks {
                try await sink(member.header)
                try await hypervisor.writeMember(disk.ref, map: member.map, into: sink)
                if member.padding > 0 { try await sink([UInt8](repeating: 0, count: member.padding)) }
            }
            try await sink(Tar.trailer)
        }
    }

    /// Streams the data `map` declares from the volume into `sink`.
    private func writeMember(_ ref: VolumeRef, map: SparseMap, into sink: @Sendable ([UInt8]) async throws -> Void) async throws {
        var filter = SparseMemberFilter(map: map, volume: ref.volume)
        try await readVolume(ref, data: map.dataSize) { piece in
            switch piece {
            case .data(let bytes):
                for part in try filter.data(bytes) { try await sink(part.count == bytes.count ? bytes : Array(part)) }
            case .hole(let length):
                var zeros = try filter.hole(length)
                while zeros > 0 {
                    let n = Int(min(zeros, UInt64(Self.chunkSize)))
                    try await sink([UInt8](repeating: 0, count: n))
                    zeros -= UInt64(n)
                }
            }
        }
        try filter.finish()
    }
}
