#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseCore

/// Where a volume that is a local file holds data, read with `lseek(SEEK_DATA/SEEK_HOLE)` (what
/// libvirt's sparse streams use too): no byte is read. The file is opened without following a
/// symlink in its last component, and only a regular file is read.
enum LocalFileMap {
    /// Linux's `SEEK_DATA` and `SEEK_HOLE` (Glibc hides them behind _GNU_SOURCE).
    static let seekData: Int32 = 3, seekHole: Int32 = 4

    /// The map of `path`, whose size must be `size`; nil when it cannot be read this way (not a
    /// regular file, a symlink, another size, a file system without SEEK_DATA).
    static func read(path: String, size: UInt64) -> SparseMap? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, UInt64(st.st_size) == size else { return nil }
        let end = off_t(size)
        var extents: [SparseMap.Extent] = []
        var position: off_t = 0
        while position < end {
            let data = lseek(fd, position, seekData)
            if data < 0 {
                if errno == ENXIO { break }  // only a hole is left
                return nil
            }
            if data >= end { break }
            let hole = lseek(fd, data, seekHole)
            guard hole > data else { return nil }
            let stop = min(hole, end)
            extents.append(SparseMap.Extent(offset: UInt64(data), length: UInt64(stop - data)))
            position = stop
        }
        return try? SparseMap(realSize: size, extents: extents)
    }

    /// Whether `uri` names this machine (no host part), so a volume's path is a path here.
    static func isLocal(uri: String) -> Bool {
        guard let url = URL(string: uri) else { return false }
        return (url.host ?? "").isEmpty
    }
}
