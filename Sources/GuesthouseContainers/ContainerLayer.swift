import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GuesthouseCore

/// One container's own layer: an overlayfs of `upper` (its changes) over the shared base, mounted
/// on `rootfs`, which the domain uses as its root. The layer's directory is made with `mkdir`, so
/// it doubles as the claim on the id: two creates of one id never both get it. Blocking.
struct ContainerLayer: Sendable {
    /// `<layers>/container<id>`
    let directory: String
    let base: String

    var upper: String { "\(directory)/upper" }
    var work: String { "\(directory)/work" }
    var rootfs: String { "\(directory)/rootfs" }

    init(layers: String, name: String, base: String) {
        directory = "\(layers)/\(name)"
        self.base = base
    }

    var exists: Bool { FileManager.default.fileExists(atPath: directory) }

    /// Makes the layer's directory; false when it already exists (the id is taken or being created).
    func claim() throws -> Bool {
        try FileManager.default.createDirectory(atPath: (directory as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        if mkdir(directory, 0o700) == 0 { return true }
        if errno == EEXIST { return false }
        throw GuesthouseError.hypervisor("cannot make \(directory): \(String(cString: strerror(errno)))")
    }

    /// Whether the overlay is mounted on `rootfs`.
    var isMounted: Bool {
        var dir = stat(), root = stat()
        guard stat(directory, &dir) == 0, stat(rootfs, &root) == 0 else { return false }
        return dir.st_dev != root.st_dev
    }

    /// Mounts the overlay unless it is mounted.
    func mount() throws {
        for sub in [upper, work, rootfs] {
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        }
        if isMounted { return }
        let options = "lowerdir=\(base),upperdir=\(upper),workdir=\(work)"
        guard Glibc.mount("overlay", rootfs, "overlay", 0, options) == 0 else {
            throw GuesthouseError.hypervisor("cannot mount the overlay of \(directory): \(String(cString: strerror(errno)))")
        }
    }

    /// Unmounts the overlay (lazily when it is busy).
    func unmount() throws {
        guard isMounted else { return }
        if umount2(rootfs, 0) != 0 {
            guard errno == EBUSY, umount2(rootfs, Int32(MNT_DETACH)) == 0 else {
                throw GuesthouseError.hypervisor("cannot unmount \(rootfs): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Unmounts and removes the whole layer. Never removes through a mounted overlay.
    func remove() throws {
        try unmount()
        guard !isMounted else { throw GuesthouseError.hypervisor("\(rootfs) is still mounted") }
        if exists { try FileManager.default.removeItem(atPath: directory) }
    }

    /// The end of the container's console log (at most `limit` bytes), from its layer.
    func consoleLog(limit: Int = 65_536) -> String {
        guard let handle = FileHandle(forReadingAtPath: upper + BaseRootfs.consoleLogPath) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > UInt64(limit) ? size - UInt64(limit) : 0)
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }
}
