import GuesthouseLibvirt
import Logging

extension ServeCommand {
    /// Re-applies the host links of the VLAN networks Guesthouse made on this host (a VLAN device
    /// and its bridge each; gone after a reboot) and starts those networks: idempotent, as for the
    /// overlay. Networks are shared by the local qemu and lxc drivers, so the kvm family's is enough.
    static func reapplyVLANNetworks(_ directory: LibvirtDirectory, logger: Logger) async {
        do {
            let target = try directory.target(family: "kvm", host: "localhost")
            guard let hypervisor = try await directory.hypervisor(for: target, credentials: nil) as? LibvirtHypervisor else { return }
            let (applied, failures) = try await hypervisor.reapplyVLANLinks()
            for failure in failures { logger.error("VLAN network \(failure)") }
            if !applied.isEmpty { logger.info("VLAN networks re-applied: \(applied.joined(separator: " "))") }
        } catch {
            logger.warning("VLAN networks not re-applied: \(error)")
        }
    }
}
