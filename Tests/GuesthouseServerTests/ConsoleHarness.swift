import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
import GuesthouseServer
import GuesthouseVmango
import Hummingbird
import HummingbirdTesting
import Logging

extension TestServer {
    /// Runs `body` against the whole application as `serve` builds it (console websockets
    /// included), on a live loopback socket.
    func runWithConsoles(operationTimeout: Double = 60,
                         _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let directory = LibvirtDirectory(config: config, pool: pool, executor: pool.executor, operationTimeout: operationTimeout)
        let machines = try LibvirtMachineProviders(config: config, pool: pool, executor: pool.executor,
                                                   logger: Logger(label: "test"), baseDirectory: "/",
                                                   operationTimeout: operationTimeout)
        let app = try buildApplication(config: config, directory: directory, logger: Logger(label: "console-test"),
                                       machines: machines)
        try await app.test(.live, body)
    }

    /// The headers of a browser's websocket upgrade (without Origin and Cookie).
    static let upgradeHeaders: HTTPFields = [
        .connection: "Upgrade", .upgrade: "websocket", .secWebSocketVersion: "13",
        .secWebSocketKey: "dGhlIHNhbXBsZSBub25jZQ==",
    ]
}
