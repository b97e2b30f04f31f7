import Hummingbird

/// The request context of every Guesthouse route.
public struct GuesthouseContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
