internal import CLibvirt

/// A libvirt storage volume. Every method blocks.
public final class StorageVolume: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { virStorageVolFree(pointer) }

    /// The volume's name within its pool.
    public var name: String { virStorageVolGetName(pointer).map { String(cString: $0) } ?? "" }

    /// The volume's key (for file-based pools, its path).
    public var key: String { virStorageVolGetKey(pointer).map { String(cString: $0) } ?? "" }

    /// The volume's path on the host.
    public func path() throws -> String {
        try takeString("virStorageVolGetPath", virStorageVolGetPath(pointer))
    }

    /// The volume's XML description.
    public func xml() throws -> String {
        try takeString("virStorageVolGetXMLDesc", virStorageVolGetXMLDesc(pointer, 0))
    }

    /// Capacity (what the guest sees) and allocation (what the host spends), in bytes.
    public func info() throws -> StorageVolumeInfo {
        var info = virStorageVolInfo()
        try check("virStorageVolGetInfo", virStorageVolGetInfo(pointer, &info))
        return StorageVolumeInfo(capacity: info.capacity, allocation: info.allocation,
                                 isFile: info.type == Int32(VIR_STORAGE_VOL_FILE.rawValue))
    }

    /// The name of the pool holding this volume.
    public func poolName() throws -> String {
        guard let p = virStoragePoolLookupByVolume(pointer) else { throw LibvirtError.last("virStoragePoolLookupByVolume") }
        defer { virStoragePoolFree(p) }
        return virStoragePoolGetName(p).map { String(cString: $0) } ?? ""
    }

    /// Grows (or, with `allowShrink`, shrinks) the volume to `bytes`.
    public func resize(to bytes: UInt64, allowShrink: Bool = false) throws {
        try check("virStorageVolResize", virStorageVolResize(pointer, bytes,
                                                             allowShrink ? VIR_STORAGE_VOL_RESIZE_SHRINK.rawValue : 0))
    }

    /// Deletes the volume and its data.
    public func delete() throws {
        try check("virStorageVolDelete", virStorageVolDelete(pointer, 0))
    }

    /// Starts sending the volume's bytes into `stream` (read them with `Stream.receive`; with
    /// `sparse`, with `Stream.receiveSparse`, holes sent as holes). Backends without sparse
    /// streams refuse `sparse` here.
    public func download(into stream: Stream, offset: UInt64 = 0, length: UInt64 = 0, sparse: Bool = false) throws {
        let flags = sparse ? UInt32(VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM.rawValue) : 0
        try check("virStorageVolDownload", virStorageVolDownload(pointer, stream.pointer, offset, length, flags))
    }

    /// Starts taking the volume's new bytes from `stream` (write them with `Stream.send`; with
    /// `sparse`, holes with `Stream.sendHole`). Backends without sparse streams refuse `sparse` here.
    public func upload(from stream: Stream, offset: UInt64 = 0, length: UInt64 = 0, sparse: Bool = false) throws {
        let flags = sparse ? UInt32(VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM.rawValue) : 0
        try check("virStorageVolUpload", virStorageVolUpload(pointer, stream.pointer, offset, length, flags))
    }
}

/// A volume's sizes, in bytes.
public struct StorageVolumeInfo: Sendable, Equatable {
    public var capacity: UInt64
    public var allocation: UInt64
    /// A regular file on the host (dir, fs, netfs pools), not a block device or network volume.
    public var isFile: Bool = false
}

extension StorageVolume {
    /// The bytes the volume takes on the host as a file (for a qcow2 file, its length): what a
    /// download streams.
    public func physicalSize() throws -> UInt64 {
        var info = virStorageVolInfo()
        try check("virStorageVolGetInfoFlags",
                  virStorageVolGetInfoFlags(pointer, &info, UInt32(VIR_STORAGE_VOL_GET_PHYSICAL.rawValue)))
        return info.allocation
    }
}
