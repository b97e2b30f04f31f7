import GuesthouseCore
import Libvirt

/// A volume that does not fit its pool is a 409 `OperationNotAllowed` naming the pool, its free
/// space and what was asked: checked before anything is created, and libvirt's own "not enough
/// space" answered the same way when another client filled the pool in between.
public enum PoolRoom {
    /// Throws `operationNotAllowed` when `bytes` exceed what `pool` has available.
    /// - Parameter what: the request, e.g. `hdd` or `plan "small"`.
    public static func check(_ pool: StoragePool, bytes: UInt64, what: String) throws {
        let available = try pool.info().available
        if bytes > available { throw full(pool: pool.name, available: available, bytes: bytes, what: what) }
    }

    /// Creates a volume (a new one from `xml`, or a copy of `source`) after `check`, mapping libvirt's
    /// own "not enough space" onto the same error.
    public static func createVolume(in pool: StoragePool, xml: String, from source: StorageVolume? = nil,
                                    bytes: UInt64, what: String) throws -> StorageVolume {
        try check(pool, bytes: bytes, what: what)
        do {
            if let source { return try pool.createVolume(xml: xml, from: source) }
            return try pool.createVolume(xml: xml)
        } catch let error as LibvirtError where isOutOfSpace(error) {
            let available = (try? pool.info().available) ?? 0
            throw full(pool: pool.name, available: available, bytes: bytes, what: what)
        }
    }

    /// Whether libvirt refused for want of space (the test driver's "Not enough free space in pool",
    /// ENOSPC from a file pool, an LVM group without room).
    static func isOutOfSpace(_ error: LibvirtError) -> Bool {
        let message = error.message.lowercased()
        return ["not enough free space", "not enough space", "no space left on device", "insufficient free space"]
            .contains { message.contains($0) }
    }

    static func full(pool: String, available: UInt64, bytes: UInt64, what: String) -> GuesthouseError {
        .conflict("storage pool '\(pool)' has \(size(available)) free; \(what) asks for \(size(bytes))")
    }

    /// `12 GiB (12884901888 bytes)`: GiB with up to two decimals, and the exact bytes.
    static func size(_ bytes: UInt64) -> String {
        let gib = Double(bytes) / Double(1 << 30)
        let rounded = (gib * 100).rounded(.down) / 100
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(text) GiB (\(bytes) bytes)"
    }
}
