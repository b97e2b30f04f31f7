/// What a machine's page does beyond power: snapshots, disks, media, clones, export archives, and
/// the host's storage pools (`storages()`) that new disks go to.
public typealias MachineHypervisor = Hypervisor & GuestSnapshots & GuestDisks & GuestMedia & GuestCloning & GuestArchiving

/// Providers whose hypervisors the web UI reaches for a machine's snapshots, disks, media, clones
/// and exports: the same calls the Simplestack routes make.
public protocol MachineHypervisors: Sendable {
    /// The provider's hypervisor.
    /// - Throws: `invalidArguments` for an unknown provider.
    func hypervisor(provider: String) throws -> any MachineHypervisor
}
