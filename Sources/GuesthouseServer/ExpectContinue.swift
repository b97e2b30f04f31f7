import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers a request that says `Expect: 100-continue` with `100 Continue` at once (RFC 9110
/// §10.1.1), so that its client sends the body now: curl waits a second for that answer before
/// every upload over 1 MiB (an archive, an OVA, an image), and Hummingbird does not give it.
/// The final response follows as usual; a refused request's body is read and dropped.
final class ExpectContinue: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data),
           head.headerFields[.expect]?.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}
