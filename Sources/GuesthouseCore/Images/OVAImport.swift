import Foundation

/// Turns an OVA (a tar of an OVF descriptor and its disks) into a stopped guest: the members are
/// extracted to a private scratch directory, the descriptor gives name, CPUs, memory and disks,
/// each disk is converted with qemu-img into a volume of the pool, and the guest is defined with
/// the hypervisor's domain type. Nothing is left behind when it fails or is cancelled.
///
/// An OVA with a manifest (`.mf`) is checked against it before anything is converted: a file
/// whose digest differs, or that the OVA lacks, refuses the import (400 naming the file).
/// Each network adapter of the OVF becomes a NIC on the host's network of the adapter's
/// Connection name if there is one, else on the host's `default` network if there is one; else it
/// is left out with a warning (see `interfaces(for:hostNetworks:)`).
public struct OVAImport: Sendable {
    public let volumes: any ImageVolumes
    public let qemuImg: QemuImg
    /// Told what the import left out (network adapters without a network).
    public let warn: @Sendable (String) -> Void

    public init(volumes: any ImageVolumes, qemuImg: QemuImg = QemuImg(), warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.volumes = volumes
        self.qemuImg = qemuImg
        self.warn = warn
    }

    /// The NICs for the OVF's network adapters: each on the host network named as its Connection
    /// if that exists, else on `default` if that exists; else left out, with a warning.
    public static func interfaces(for networks: [OVFDescriptor.Network],
                                  hostNetworks: Set<String>) -> (interfaces: [NewDomain.Interface], warnings: [String]) {
        var interfaces: [NewDomain.Interface] = []
        var warnings: [String] = []
        for (index, adapter) in networks.enumerated() {
            if !adapter.connection.isEmpty, hostNetworks.contains(adapter.connection) {
                interfaces.append(NewDomain.Interface(network: adapter.connection, model: adapter.model))
            } else if hostNetworks.contains("default") {
                interfaces.append(NewDomain.Interface(network: "default", model: adapter.model))
            } else {
                warnings.append("OVF network adapter \(index + 1) (network '\(adapter.connection)'): the host has no network of that name and no 'default' network; the adapter is left out")
            }
        }
        return (interfaces, warnings)
    }

    /// Imports the OVA read from `archive` into `storage` (nil: the default pool). `name`
    /// overrides the descriptor's name. `progress` counts the archive's bytes, then the upload's.
    /// - Throws: `invalidArguments` for a bad archive, descriptor, name or disk image;
    ///   `operationNotAllowed` for a taken name or a pool without room.
    public func run(archive: AsyncThrowingStream<[UInt8], any Error>, storage: String?, name: String?,
                    progress: TransferProgress) async throws -> Guest {
        let scratch = try ScratchDirectory(label: "guesthouse-ova")
        defer { scratch.remove() }
        let extracted = try await OVAArchiveMembers.extract(archive, into: scratch, progress: progress)
        if let manifest = extracted.manifest { try OVAManifest(parsing: manifest).verify(extracted.digests) }
        let descriptor = try OVFDescriptor(parsing: extracted.descriptor)
        let guestName = name ?? descriptor.name
        try Validation.name(guestName, field: name == nil ? "OVF virtual system name (send name= to choose another)" : "name")
        try Validation.range(descriptor.memoryMiB, Validation.memoryMiB, field: "OVF memory (MiB)")
        try Validation.range(descriptor.cpus, Validation.cpus, field: "OVF CPU count")
        if try await volumes.guestExists(name: guestName) {
            throw GuesthouseError.conflict("a guest named '\(guestName)' already exists")
        }
        let pool = try await volumes.imagePool(storage)
        let (interfaces, warnings) = Self.interfaces(for: descriptor.networks,
                                                     hostNetworks: descriptor.networks.isEmpty ? [] : try await volumes.networkNames())

        // Convert every disk first; volumes are made only once all of them read well and fit.
        var converted: [(disk: OVFDescriptor.Disk, file: String, capacity: UInt64)] = []
        for (index, disk) in descriptor.disks.enumerated() {
            guard let member = extracted.files[disk.file] else {
                throw GuesthouseError.invalid("the OVA has no member '\(disk.file)' that its descriptor names")
            }
            let info = try await qemuImg.checkedInfo(member)
            let out = scratch.file("disk-\(index)")
            try await qemuImg.convert(member, format: info.format, to: out, outputFormat: pool.volumeFormat)
            try? FileManager.default.removeItem(atPath: member)
            converted.append((disk, out, info.virtualSize))
        }
        try DiskImageImport.checkSpace(pool, needed: converted.reduce(0) { $0 + $1.capacity })
        progress.start(total: converted.reduce(0) { $0 + ScratchDirectory.size(of: $1.file) })

        var made: [ImageVolume] = []
        do {
            var domain = NewDomain(type: volumes.domainType, name: guestName, memoryMiB: descriptor.memoryMiB,
                                   cpus: descriptor.cpus, os: .hvm(arch: "x86_64"), interfaces: interfaces)
            var used: [String: Int] = [:]
            for (index, disk) in converted.enumerated() {
                let volume = try await volumes.createImageVolume(pool: pool.name, name: "\(guestName)-disk\(index).\(pool.volumeFormat)",
                                                                 format: pool.volumeFormat, capacity: disk.capacity)
                made.append(volume)
                try Task.checkCancellation()
                try await volumes.upload(file: disk.file, into: volume, progress: progress)
                let prefix = switch disk.disk.bus { case "ide": "hd"; case "virtio": "vd"; default: "sd" }
                let letter = used[prefix, default: 0]
                used[prefix] = letter + 1
                domain.disks.append(.init(pool: volume.pool, volume: volume.name, format: volume.format,
                                          target: prefix + String(UnicodeScalar(UInt8(ascii: "a") + UInt8(min(letter, 25)))),
                                          bus: disk.disk.bus))
            }
            try Task.checkCancellation()
            let guest = try await volumes.defineGuest(domain)
            for warning in warnings { warn("OVA import of \(guestName): \(warning)") }
            if Task.isCancelled {
                await volumes.removeGuest(name: guestName)
                throw CancellationError()
            }
            return guest
        } catch {
            for volume in made { await volumes.removeImageVolume(volume) }
            throw error
        }
    }
}
