internal import CLibvirt

extension Domain {
    /// Renames the domain (it must be shut off on most drivers).
    public func rename(to newName: String) throws {
        try check("virDomainRename", virDomainRename(pointer, newName, 0))
    }

    /// Sets the memory of the persistent definition (maximum and current) to `kib`.
    public func setConfiguredMemory(kib: UInt64) throws {
        let config = VIR_DOMAIN_AFFECT_CONFIG.rawValue
        try check("virDomainSetMemoryFlags", virDomainSetMemoryFlags(pointer, UInt(kib), config | VIR_DOMAIN_MEM_MAXIMUM.rawValue))
        try check("virDomainSetMemoryFlags", virDomainSetMemoryFlags(pointer, UInt(kib), config))
    }

    /// Sets the vCPU count of the persistent definition (maximum and current) to `count`.
    public func setConfiguredVcpus(_ count: Int) throws {
        let config = VIR_DOMAIN_AFFECT_CONFIG.rawValue
        let n = UInt32(count)
        // Lowering: current first, then the maximum; raising: the maximum first.
        if virDomainSetVcpusFlags(pointer, n, config | VIR_DOMAIN_VCPU_MAXIMUM.rawValue) < 0 {
            let error = LibvirtError.last("virDomainSetVcpusFlags")
            guard error.kind == .invalidArgument || error.kind == .conflict || error.kind == .other else { throw error }
            try check("virDomainSetVcpusFlags", virDomainSetVcpusFlags(pointer, n, config))
            try check("virDomainSetVcpusFlags", virDomainSetVcpusFlags(pointer, n, config | VIR_DOMAIN_VCPU_MAXIMUM.rawValue))
            return
        }
        try check("virDomainSetVcpusFlags", virDomainSetVcpusFlags(pointer, n, config))
    }
}
