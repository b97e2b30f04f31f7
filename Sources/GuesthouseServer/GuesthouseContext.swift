import Hummingbird
import NIOCore

/// The request context of every Guesthouse route.
public struct GuesthouseContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The socket's peer (a proxy's when there is one; `RequestOrigin` holds the client's).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
