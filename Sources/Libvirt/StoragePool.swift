internal import CLibvirt

/// A libvirt storage pool. Every method blocks.
public final class StoragePool: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { virStoragePoolFree(pointer) }

    /// The pool's name.
    public var name: String { virStoragePoolGetName(pointer).map { String(cString: $0) } ?? "" }

    /// The pool's UUID in dashed form.
    public var uuid: String {
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        guard virStoragePoolGetUUIDString(pointer, &buffer) == 0 else { virResetLastError(); return "" }
        return String(cString: buffer)
    }

    /// The pool's XML definition.
    public func xml() throws -> String {
        try takeString("virStoragePoolGetXMLDesc", virStoragePoolGetXMLDesc(pointer, 0))
    }

    /// Capacity, allocation and free space in bytes, and whether the pool runs.
    public func info() throws -> StoragePoolInfo {
        var info = virStoragePoolInfo()
        try check("virStoragePoolGetInfo", virStoragePoolGetInfo(pointer, &info))
        return StoragePoolInfo(running: info.state == Int32(VIR_STORAGE_POOL_RUNNING.rawValue),
                               capacity: info.capacity, allocation: info.allocation, available: info.available)
    }

    /// Rescans the pool's volumes.
    public func refresh() throws {
        try check("virStoragePoolRefresh", virStoragePoolRefresh(pointer, 0))
    }

    /// Every volume of the pool.
    public func volumes() throws -> [StorageVolume] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check("virStoragePoolListAllVolumes", virStoragePoolListAllVolumes(pointer, &list, 0))
        defer { free(list) }
        return (0..<Int(count)).compactMap { i in list?[i].map(StorageVolume.init) }
    }

    /// The volume with this name.
    public func volume(name: String) throws -> StorageVolume {
        guard let v = virStorageVolLookupByName(pointer, name) else {
            throw LibvirtError.last("virStorageVolLookupByName")
        }
        return StorageVolume(v)
    }

    /// Creates a volume from XML.
    public func createVolume(xml: String) throws -> StorageVolume {
        guard let v = virStorageVolCreateXML(pointer, xml, 0) else { throw LibvirtError.last("virStorageVolCreateXML") }
        return StorageVolume(v)
    }

    /// Creates a volume from XML whose content is copied from `source` (same or another pool).
    public func createVolume(xml: String, from source: StorageVolume) throws -> StorageVolume {
        guard let v = virStorageVolCreateXMLFrom(pointer, xml, source.pointer, 0) else {
            throw LibvirtError.last("virStorageVolCreateXMLFrom")
        }
        return StorageVolume(v)
    }
}

/// A storage pool's figures, in bytes.
public struct StoragePoolInfo: Sendable, Equatable {
    public var running: Bool
    public var capacity: UInt64
    public var allocation: UInt64
    public var available: UInt64
}

extension Connection {
    /// Every storage pool, active or not.
    public func allStoragePools() throws -> [StoragePool] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check("virConnectListAllStoragePools", virConnectListAllStoragePools(pointer, &list, 0))
        defer { free(list) }
        return (0..<Int(count)).compactMap { i in list?[i].map(StoragePool.init) }
    }

    /// The pool with this name.
    public func storagePool(name: String) throws -> StoragePool {
        guard let p = virStoragePoolLookupByName(pointer, name) else {
            throw LibvirtError.last("virStoragePoolLookupByName")
        }
        return StoragePool(p)
    }

    /// The pool with this UUID.
    public func storagePool(uuid: String) throws -> StoragePool {
        guard let p = virStoragePoolLookupByUUIDString(pointer, uuid) else {
            throw LibvirtError.last("virStoragePoolLookupByUUIDString")
        }
        return StoragePool(p)
    }

    /// The volume at this path (key), in whichever pool holds it.
    public func storageVolume(path: String) throws -> StorageVolume {
        guard let v = virStorageVolLookupByPath(pointer, path) else { throw LibvirtError.last("virStorageVolLookupByPath") }
        return StorageVolume(v)
    }

    /// Defines and starts a persistent storage pool from XML.
    public func defineStoragePool(xml: String, build: Bool = false) throws -> StoragePool {
        guard let p = virStoragePoolDefineXML(pointer, xml, 0) else { throw LibvirtError.last("virStoragePoolDefineXML") }
        let pool = StoragePool(p)
        if build { try check("virStoragePoolBuild", virStoragePoolBuild(p, 0)) }
        try check("virStoragePoolCreate", virStoragePoolCreate(p, 0))
        return pool
    }
}

extension StoragePool {
    /// Stops the pool and removes its definition (not its volumes).
    public func destroyAndUndefine() throws {
        if (try? info().running) == true { try check("virStoragePoolDestroy", virStoragePoolDestroy(pointer)) }
        try check("virStoragePoolUndefine", virStoragePoolUndefine(pointer))
    }
}
