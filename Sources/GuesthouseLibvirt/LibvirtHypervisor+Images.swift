import Foundation
import GuesthouseCore
import Libvirt

/// Pools, volumes and guest definitions for imports of disk images and OVAs. Volumes are filled
/// through a libvirt upload stream from a local file, 1 MiB per hop on the libvirt executor, so
/// an import works for every pool type and for remote hosts.
extension LibvirtHypervisor: ImageVolumes {
    public func imagePool(_ id: String?) async throws -> ImagePool {
        try await withConnection("storage info", readOnly: true) { conn in
            let pool = try id.map { try Self.lookupPool(conn, id: $0) } ?? Self.defaultPool(conn)
            let info = try pool.info()
            guard info.running else { throw GuesthouseError.conflict("storage pool '\(pool.name)' is not running") }
            let type = (try? XMLTree.parse(pool.xml())["type"]) ?? nil
            return ImagePool(name: pool.name, type: type ?? "dir", available: info.available)
        }
    }

    public func createImageVolume(pool: String, name: String, format: String, capacity: UInt64) async throws -> ImageVolume {
        try Validation.name(name)
        try Task.checkCancellation()
        // Not cancelled half-way (the caller would not learn of a volume made after it gave up):
        // the caller checks for cancellation afterwards and removes the volume.
        let hypervisor = self
        return try await Task {
            try await hypervisor.withConnection("volume create") { conn in
                let p = try conn.storagePool(name: pool)
                if (try? p.volume(name: name)) != nil {
                    throw GuesthouseError.conflict("storage pool '\(pool)' already has a volume named '\(name)'")
                }
                _ = try p.createVolume(xml: VolumeXML.render(name: name, capacityBytes: capacity, format: format))
                return ImageVolume(pool: pool, name: name, format: format, capacity: capacity)
            }
        }.value
    }

    public func upload(file path: String, into volume: ImageVolume, progress: TransferProgress) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GuesthouseError(.internalError, "cannot read the converted image")
        }
        defer { try? handle.close() }
        let length = ScratchDirectory.size(of: path)
        let conn = try await pool.connection(uri: uri, credentials: credentials)
        let family = self.family
        let stream = try await executor.run {
            do {
                let stream = try Stream(connection: conn)
                try conn.storagePool(name: volume.pool).volume(name: volume.name).upload(from: stream, offset: 0, length: length)
                return stream
            } catch { throw LibvirtErrorMapping.map(error, operation: "volume upload", family: family) }
        }
        do {
            while true {
                try Task.checkCancellation()
                // One hop per piece: read the file and send it, both blocking, on the executor.
                let sent = try await executor.run {
                    let chunk = try handle.read(upToCount: Self.imageChunkSize) ?? Data()
                    do {
                        if !chunk.isEmpty { try chunk.withUnsafeBytes { try stream.send($0) } }
                    } catch { throw LibvirtErrorMapping.map(error, operation: "volume upload", family: family) }
                    return chunk.count
                }
                if sent == 0 { break }
                progress.add(sent)
            }
            try await executor.run {
                do { try stream.finish() } catch { throw LibvirtErrorMapping.map(error, operation: "volume upload", family: family) }
            }
        } catch {
            stream.abort()
            throw error
        }
    }

    static let imageChunkSize = 1 << 20

    public func removeImageVolume(_ volume: ImageVolume) async {
        // In a task of its own: cleanup after a cancel must not be cancelled itself.
        let hypervisor = self
        await Task {
            _ = try? await hypervisor.withConnection("volume delete") { conn in
                try conn.storagePool(name: volume.pool).volume(name: volume.name).delete()
            }
        }.value
    }

    public func imageVolume(pool: String, name: String) async throws -> ImageVolume {
        try await withConnection("volume info", readOnly: true) { conn in
            let p = try Self.lookupPool(conn, id: pool)
            let volume: StorageVolume
            do { volume = try p.volume(name: name) } catch let error as LibvirtError where error.kind == .notFound {
                throw GuesthouseError.notFound("storage '\(pool)' has no volume '\(name)'")
            }
            let format = (try? XMLTree.parse(volume.xml()).path("target", "format")?["type"]) ?? nil
            return ImageVolume(pool: p.name, name: name, format: format ?? "raw", capacity: try volume.info().capacity)
        }
    }

    public func guestExists(name: String) async throws -> Bool {
        try await withConnection("guest lookup", readOnly: true) { conn in (try? conn.domain(name: name)) != nil }
    }

    public func networkNames() async throws -> Set<String> {
        try await withConnection("network list", readOnly: true) { conn in Set(try conn.allNetworks().map(\.name)) }
    }

    public func defineGuest(_ domain: NewDomain) async throws -> Guest {
        try Validation.name(domain.name)
        try Task.checkCancellation()
        let hypervisor = self
        return try await Task {
            try await hypervisor.withConnection("guest define") { conn in
                if (try? conn.domain(name: domain.name)) != nil {
                    throw GuesthouseError.conflict("a guest named '\(domain.name)' already exists")
                }
                return try GuestReader(conn: conn).guest(try conn.defineDomain(xml: domain.renderXML()))
            }
        }.value
    }
}

extension LibvirtHypervisor {
    public func removeGuest(name: String) async {
        let hypervisor = self
        await Task {
            _ = try? await hypervisor.withConnection("guest undefine") { conn in try conn.domain(name: name).undefine() }
        }.value
    }
}
