import Foundation
import GuesthouseCore
import GuesthouseLibvirt
import Libvirt

/// Builds `Machine` values from domains, reading the provider network's DHCP plan and leases once
/// per call however many machines are listed.
final class MachineReader {
    let conn: Connection
    let network: String
    private lazy var plan: DHCPPlan? = try? DHCPPlan(networkXML: conn.network(name: network).xml(), network: network)
    /// Volumes and leases, read through the Simplestack guest reader (and cached per call by it).
    private let volumes: GuestReader

    init(conn: Connection, network: String) {
        self.conn = conn
        self.network = network
        self.volumes = GuestReader(conn: conn)
    }

    func machine(_ domain: Domain) throws -> Machine {
        machine(try volumes.viewed(domain))
    }

    /// The machine of a domain as read (or as a host's view keeps it): only the network's DHCP plan
    /// and leases are read here, once per reader.
    func machine(_ viewed: ViewedDomain) -> Machine {
        let state = viewed.state
        let definition = viewed.definition
        let metadata = definition.metadata[VmangoMetadata.namespace].map(VmangoMetadata.init(element:)) ?? VmangoMetadata()
        let mac = definition.interfaces.first?.mac ?? ""
        var machine = Machine(
            id: definition.uuid.replacingOccurrences(of: "-", with: "").lowercased(), name: definition.name,
            plan: metadata.plan, creator: metadata.creator, os: metadata.os, arch: definition.arch ?? "",
            memory: definition.memoryKiB * 1024, cpus: definition.vcpus, imageID: metadata.imageID,
            hwAddr: mac, sshKeys: metadata.sshKeys, state: Self.state(state), userdata: metadata.userdata)
        machine.ip = address(mac: mac, interface: definition.interfaces.first, running: state == .running)
        if let port = definition.vncPort, port > 0 {
            machine.vncAddr = "\(definition.vncListen ?? "127.0.0.1"):\(port)"
        }
        if let root = definition.disks.first(where: { $0.device == "disk" }) {
            machine.rootDisk = MachineDisk(size: viewed.diskCapacities[root.target] ?? 0, driver: root.driver ?? "",
                                           type: root.format ?? "")
        }
        machine.diskBytes = definition.disks.filter { $0.device == "disk" }
            .reduce(0) { $0 + (viewed.diskCapacities[$1.target] ?? 0) }
        return machine
    }

    /// vmango's state names, from the one mapping of libvirt's states.
    static func state(_ state: DomainState) -> String {
        Machine.state(LibvirtHypervisor.guestState(state))
    }

    /// The static DHCP entry of the machine's MAC, else (running machines) its lease.
    private func address(mac: String, interface: DomainInterface?, running: Bool) -> MachineAddress {
        if let plan, let host = plan.host(mac: mac) {
            return MachineAddress(address: host.ip, gateway: plan.gateway, netmask: plan.prefix)
        }
        guard running, let interface, let lease = volumes.lease(of: [interface]) else { return MachineAddress() }
        return MachineAddress(address: lease.address, gateway: "", netmask: lease.prefix)
    }
}
