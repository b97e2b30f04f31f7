import GuesthouseCore
import GuesthouseLibvirt

extension LibvirtMachineProviders: MachineHypervisors {
    public func hypervisor(provider name: String) throws -> any MachineHypervisor {
        try provider(name).hypervisor
    }
}
