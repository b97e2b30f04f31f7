import GuesthouseCore
import GuesthouseLibvirt

extension LibvirtMachineProviders: MachineConsoles {
    /// Opens the machine's serial console or VNC display; the machine is found as every other
    /// route finds it (ignored machines do not exist here).
    public func openConsole(_ kind: ConsoleKind, provider name: String, id: String) async throws -> any ConsoleConnection {
        let provider = try self.provider(name)
        return try await provider.hypervisor.openConsole(kind) { conn in try provider.lookup(conn, id: id) }
    }
}
