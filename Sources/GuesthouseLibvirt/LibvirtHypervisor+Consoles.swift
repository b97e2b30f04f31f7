import GuesthouseCore
import Libvirt

extension LibvirtHypervisor {
    /// Opens a console of the running domain `lookup` finds on this host's pooled connection.
    /// - Throws: `conflict` when the domain is not running; libvirt's refusals mapped as everywhere.
    public func openConsole(_ kind: ConsoleKind,
                            lookup: @escaping @Sendable (Connection) throws -> Domain) async throws -> any ConsoleConnection {
        let executor = self.executor
        return try await withConnection("console \(kind.rawValue)", readOnly: true) { conn in
            let domain = try lookup(conn)
            guard try domain.isActive() else { throw GuesthouseError.conflict("\(domain.name) is not running") }
            let pipe = switch kind {
            case .serial: try domain.openSerialConsole(on: conn)
            case .vnc: try domain.openGraphicsSocket()
            }
            return LibvirtConsole(pipe: pipe, connection: conn, executor: executor)
        }
    }
}

/// A console over libvirt: the pipe, the connection it lives on (kept open while it does), and the
/// executor its blocking calls run on.
final class LibvirtConsole: ConsoleConnection {
    let pipe: ConsolePipe
    let connection: Connection
    let executor: LibvirtExecutor

    init(pipe: ConsolePipe, connection: Connection, executor: LibvirtExecutor) {
        self.pipe = pipe
        self.connection = connection
        self.executor = executor
    }

    var output: AsyncStream<[UInt8]> { pipe.output }

    func send(_ bytes: [UInt8]) async throws {
        let pipe = self.pipe
        do {
            try await executor.run { try pipe.send(bytes) }
        } catch let error as LibvirtError {
            throw GuesthouseError.conflict("console: \(error.message)")
        }
    }

    func close() async {
        let pipe = self.pipe
        try? await executor.run { pipe.close() }
    }
}
