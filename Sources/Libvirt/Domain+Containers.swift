internal import CLibvirt

extension Domain {
    /// The domain's state with its memory and CPU use (`virDomainGetInfo`): one call.
    public func runtimeInfo() throws -> DomainRuntimeInfo {
        var info = virDomainInfo()
        try check("virDomainGetInfo", virDomainGetInfo(pointer, &info))
        return DomainRuntimeInfo(state: DomainState(rawValue: Int32(info.state)) ?? .noState,
                                 maxMemoryKiB: UInt64(info.maxMem), memoryKiB: UInt64(info.memory),
                                 virtualCPUs: Int(info.nrVirtCpu), cpuTimeNanoseconds: UInt64(info.cpuTime))
    }

    /// Asks the domain to shut down by signalling its init (SIGTERM; LXC), rather than libvirt's
    /// default that tries `/dev/initctl` first; returns before it has stopped.
    public func shutdownBySignal() throws {
        try check("virDomainShutdownFlags", virDomainShutdownFlags(pointer, VIR_DOMAIN_SHUTDOWN_SIGNAL.rawValue))
    }

    /// The id of a running domain (for LXC, the process id of its controller); nil when it is not running.
    public var runningID: UInt32? {
        let id = virDomainGetID(pointer)
        return id == UInt32.max ? nil : id
    }
}

/// What `virDomainGetInfo` reports.
public struct DomainRuntimeInfo: Sendable, Equatable {
    public var state: DomainState
    public var maxMemoryKiB: UInt64
    /// Memory in use (for LXC, the container's cgroup usage).
    public var memoryKiB: UInt64
    public var virtualCPUs: Int
    /// CPU time used so far.
    public var cpuTimeNanoseconds: UInt64
}
