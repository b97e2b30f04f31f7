import GuesthouseCore
import GuesthouseLibvirt
import Libvirt

extension LibvirtContainerService: ContainerConsoles {
    /// Opens the running container's console (its `<console type='pty'>`) as a libvirt stream.
    public func openConsole(id: Int) async throws -> any ConsoleConnection {
        try await host.openConsole(.serial) { conn in
            do {
                return try conn.domain(name: ContainerDefinition.name(id))
            } catch let error as LibvirtError where error.kind == .notFound {
                throw GuesthouseError.notFound("container \(id) not found")
            }
        }
    }
}
