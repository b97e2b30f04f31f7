/// Which console of a machine a browser opens.
public enum ConsoleKind: String, Sendable, CaseIterable {
    /// The first serial console (`<console>`), as a byte stream of a terminal.
    case serial
    /// The first graphics server (VNC), as RFB bytes.
    case vnc
}

/// An open console: what the guest writes, a way to write to it, and an end.
/// Closing it ends the hypervisor's side (the libvirt stream is aborted, the socket closed).
public protocol ConsoleConnection: Sendable {
    /// The guest's bytes as they arrive; finishes when the console ends (either side).
    var output: AsyncStream<[UInt8]> { get }
    /// Writes to the guest.
    /// - Throws: `GuesthouseError` when the console has ended.
    func send(_ bytes: [UInt8]) async throws
    /// Ends the console; safe to call more than once.
    func close() async
}

/// Providers whose machines' consoles can be opened (vmango's providers over libvirt).
public protocol MachineConsoles: Sendable {
    /// Opens a console of a running machine.
    /// - Throws: `notFound` for an unknown machine, `conflict` when it is not running,
    ///   `featureNotImplemented`/`conflict` when it has no such console.
    func openConsole(_ kind: ConsoleKind, provider: String, id: String) async throws -> any ConsoleConnection
}

/// Container hosts whose containers' consoles can be opened.
public protocol ContainerConsoles: Sendable {
    /// Opens the serial console of a running container.
    func openConsole(id: Int) async throws -> any ConsoleConnection
}
