import GuesthouseCore
import Libvirt

extension LibvirtHypervisor {
    public func poolInfo() async throws -> PoolInfo {
        try await withConnection("pool info") { conn in
            let node = try conn.nodeInfo()
            let total = Int(node.memoryKiB / 1024)
            let used: Int
            if let free = conn.freeMemory() {
                used = max(0, total - Int(free / 1_048_576))
            } else {
                // Drivers without free-memory figures: the memory of the running guests.
                var runningKiB: UInt64 = 0
                for domain in try conn.allDomains() where (try? domain.isActive()) == true {
                    let definition = try? DomainDefinition(xml: domain.xml())
                    runningKiB += definition?.memoryKiB ?? 0
                }
                used = Int(runningKiB / 1024)
            }
            return PoolInfo(usedMemoryMiB: used, totalMemoryMiB: total, uuid: HostID.of(conn, hostName: hostName),
                            master: (try? conn.hostname()) ?? hostName, libvirtVersion: try conn.libvirtVersion(),
                            hypervisorVersion: conn.hypervisorVersion(), hypervisorType: try conn.driverType())
        }
    }

    public func hosts() async throws -> [HostInfo] {
        let hostName = self.hostName
        return try await withConnection("host list") { conn in
            let node = try conn.nodeInfo()
            let name = (try? conn.hostname()) ?? hostName
            return [HostInfo(id: HostID.of(conn, hostName: hostName), name: name, address: hostName, cpus: node.cpus,
                             memoryMiB: Int(node.memoryKiB / 1024))]
        }
    }

    public func storages() async throws -> [Storage] {
        try await withConnection("storage list") { conn in
            try conn.allStoragePools().map(Self.storage)
        }
    }

    public func storage(id: String) async throws -> Storage {
        try await withConnection("storage info") { conn in
            try Self.storage(Self.lookupPool(conn, id: id))
        }
    }

    static func lookupPool(_ conn: Connection, id: String) throws -> StoragePool {
        if let pool = try? conn.storagePool(uuid: id) { return pool }
        do {
            return try conn.storagePool(name: id)
        } catch let error as LibvirtError where error.kind == .notFound {
            throw GuesthouseError.notFound("storage '\(id)' not found")
        }
    }

    static func storage(_ pool: StoragePool) throws -> Storage {
        let info = try pool.info()
        let type = (try? XMLTree.parse(pool.xml())["type"]) ?? nil
        return Storage(id: pool.uuid, name: pool.name, type: type ?? "unknown", usedSpace: info.allocation,
                       allocatedSpace: info.allocation, size: info.capacity)
    }
}
