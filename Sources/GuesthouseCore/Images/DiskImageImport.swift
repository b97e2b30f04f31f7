import Foundation

/// Turns a disk image file (raw, qcow2, VMDK, VHDX) into a volume of a pool: checks the format and
/// the pool's free space, converts the image with qemu-img into the pool's format in a private
/// scratch directory, creates the volume and uploads the converted file through the hypervisor
/// (a libvirt stream: it works for every pool type and for remote hosts). Nothing is left behind
/// when it fails or is cancelled.
public struct DiskImageImport: Sendable {
    public let volumes: any ImageVolumes
    public let qemuImg: QemuImg

    public init(volumes: any ImageVolumes, qemuImg: QemuImg = QemuImg()) {
        self.volumes = volumes
        self.qemuImg = qemuImg
    }

    /// Imports the image at `file` as the volume `name` of pool `storage` (nil: the default pool),
    /// in `format` (nil: the pool's own, qcow2 for file pools and raw for block pools).
    /// - Throws: `invalidArguments` for a bad name or an unsupported or non-standalone image,
    ///   `operationNotAllowed` when the pool lacks space or the name is taken, `entityNotFound` for
    ///   an unknown pool.
    public func run(file: String, name: String, storage: String?, format: String? = nil,
                    progress: TransferProgress) async throws -> ImageVolume {
        try Validation.name(name)
        let info = try await qemuImg.checkedInfo(file)
        let pool = try await volumes.imagePool(storage)
        try Self.checkSpace(pool, needed: info.virtualSize)
        let scratch = try ScratchDirectory(label: "guesthouse-image")
        defer { scratch.remove() }
        let converted = scratch.file("converted")
        let format = format ?? pool.volumeFormat
        try await qemuImg.convert(file, format: info.format, to: converted, outputFormat: format)
        let volume = try await volumes.createImageVolume(pool: pool.name, name: name, format: format,
                                                         capacity: info.virtualSize)
        do {
            progress.start(total: ScratchDirectory.size(of: converted))
            try Task.checkCancellation()
            try await volumes.upload(file: converted, into: volume, progress: progress)
            try Task.checkCancellation()
            return volume
        } catch {
            await volumes.removeImageVolume(volume)
            throw error
        }
    }

    /// Refuses an image whose virtual size does not fit in the pool's free space.
    public static func checkSpace(_ pool: ImagePool, needed: UInt64) throws {
        guard needed <= pool.available else {
            throw GuesthouseError.conflict("storage pool '\(pool.name)' has \(pool.available) bytes free; "
                                           + "the image needs \(needed) bytes")
        }
    }
}
