import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A websocket client that sends what a browser sends: the page's `Origin` (`http://host:port`),
/// its cookies and subprotocols. (HummingbirdWSClient sends `Origin: ws://host`, which no browser
/// does and the consoles refuse.)
enum BrowserLikeWebSocket {
    typealias Socket = NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

    enum Outcome: Sendable {
        case upgraded(Socket)
        case refused
    }

    /// Connects to `127.0.0.1:port` asking for `path` with `headers` besides Host and the upgrade's own.
    static func connect(port: Int, path: String, headers: [(String, String)]) async throws -> Outcome {
        let result: EventLoopFuture<Outcome> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Outcome>(upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture { .upgraded(try Socket(wrappingChannelSynchronously: channel)) }
                    })
                    var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
                    head.headers.add(name: "Host", value: "localhost:\(port)")
                    for (name, value) in headers { head.headers.add(name: name, value: value) }
                    let upgrade = NIOTypedHTTPClientUpgradeConfiguration<Outcome>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(.refused) })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: upgrade))
                }
            }
        return try await result.get()
    }

    /// A masked frame from the client.
    static func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8] = []) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: ByteBuffer(bytes: bytes))
    }

    /// The close frame a closing tab sends (1001, going away).
    static var goingAway: WebSocketFrame { frame(.connectionClose, [0x03, 0xE9]) }
}
