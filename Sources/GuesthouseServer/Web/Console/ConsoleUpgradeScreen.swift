import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP/1 server with console websockets: hummingbird-websocket's upgrade channel, with a
/// screen in front of its upgrade handler. hummingbird-websocket answers every refused upgrade
/// with a bare 400; the screen instead turns a console upgrade that the `ConsoleGate` refuses into
/// a plain request (its `Upgrade` and `Connection` headers dropped), which the router then answers
/// with the refusal's own status (401, 403, 404). Nothing is upgraded before the gate said yes.
struct ConsoleUpgradeChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value
    let inner: HTTP1WebSocketUpgradeChannel
    let gate: ConsoleGate

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let upgrader = try pipeline.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try pipeline.addHandler(ConsoleUpgradeScreen(gate: gate), position: .before(upgrader))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the consoles' websocket upgrades (see `ConsoleUpgradeChannel`).
    static func http1Consoles(_ routes: ConsoleRoutes,
                              additionalChannelHandlers: @escaping @Sendable () -> [any RemovableChannelHandler] = { [] })
        -> HTTPServerBuilder {
        let sockets = routes.webSocketRouter().buildResponder()
        return HTTPServerBuilder { responder in
            ConsoleUpgradeChannel(inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: sockets,
                                                                      configuration: .init(),
                                                                      additionalChannelHandlers: additionalChannelHandlers),
                                  gate: routes.gate)
        }
    }
}

/// Looks at the first request of a connection: a console upgrade passes unchanged only when the
/// gate allows it; refused, it goes on without its upgrade headers. Then the screen steps aside.
final class ConsoleUpgradeScreen: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    let gate: ConsoleGate
    private var deciding = false
    private var held: [HTTPServerRequestPart] = []

    init(gate: ConsoleGate) { self.gate = gate }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if deciding {
            held.append(part)
            return
        }
        guard case .head(let head) = part, head.headers.contains(name: "upgrade") else {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        // Only console sockets upgrade here; any other upgrade goes on as a plain request.
        guard let target = ConsoleTarget(socketPath: head.uri) else {
            decided(context, head, allowed: false)
            return
        }
        deciding = true
        let gate = self.gate
        let cookie = head.headers["cookie"].joined(separator: "; ")
        let origin = head.headers.first(name: "origin")
        let authority = head.headers.first(name: "host")
        let decision = context.eventLoop.makePromise(of: Bool.self)
        decision.completeWithTask {
            if case .success = await gate.authorize(cookie: cookie, origin: origin, authority: authority, target) { return true }
            return false
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        decision.futureResult.whenComplete { result in
            let (screen, context) = bound.value
            screen.decided(context, head, allowed: (try? result.get()) == true)
        }
    }

    /// Passes the request on (without its upgrade headers when refused), then what arrived meanwhile.
    private func decided(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, allowed: Bool) {
        var head = head
        if !allowed {
            head.headers.remove(name: "upgrade")
            head.headers.remove(name: "connection")
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
        for part in held { context.fireChannelRead(wrapInboundOut(part)) }
        held = []
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
