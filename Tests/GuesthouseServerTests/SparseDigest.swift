import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A digest of a file's contents that skips its holes: SHA-256 over the size and, for each 64 KiB
/// block holding anything but zeros, its offset and bytes. Two files have equal digests exactly when
/// their bytes are equal (a hole and written zeros count the same), at the cost of their allocated
/// data: a `sha256sum` of a 20 GiB sparse file reads 20 GiB (ten minutes on a loaded CI machine).
enum SparseDigest {
    static let block = 64 << 10
    static let seekData: Int32 = 3, seekHole: Int32 = 4

    static func of(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW)
        guard fd >= 0 else { throw CocoaError(.fileReadNoSuchFile) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CocoaError(.fileReadUnknown) }
        var hash = SHA256()
        withUnsafeBytes(of: UInt64(st.st_size).littleEndian) { hash.update(bufferPointer: $0) }
        var buffer = [UInt8](repeating: 0, count: block)
        var position: off_t = 0
        while position < st.st_size {
            let data = lseek(fd, position, seekData)
            if data < 0 { break }
            let start = data - data % off_t(block)
            let end = min(lseek(fd, data, seekHole), st.st_size)
            var at = start
            while at < end {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, block, at) }
                guard n > 0 else { break }
                if buffer[0..<n].contains(where: { $0 != 0 }) {
                    withUnsafeBytes(of: UInt64(at).littleEndian) { hash.update(bufferPointer: $0) }
                    buffer[0..<n].withUnsafeBytes { hash.update(bufferPointer: $0) }
                }
                at += off_t(n)
            }
            position = max(at, end)
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The KiB a file takes on disk (`du -k`).
    static func allocatedKiB(_ path: String) throws -> UInt64 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw CocoaError(.fileReadNoSuchFile) }
        return UInt64(st.st_blocks) / 2
    }
}
