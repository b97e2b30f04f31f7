import CoreMetrics
import Foundation
import GuesthouseCore
import Hummingbird
import Prometheus

/// The server's Prometheus registry, made by the builder and injected (no global bootstrap):
/// every part records through `factory`, and `/metrics` writes the registry in the text format.
/// Figures that are states rather than counts (connections, the views' size and age) are read
/// by `collectors` just before each scrape.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory over `registry`, for `Counter(label:dimensions:factory:)` and friends.
    public let factory: any MetricsFactory
    private let collectors = Locked<[@Sendable (any MetricsFactory) -> Void]>([])

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]
        self.factory = factory
    }

    /// Adds a reader of state-like figures, called before every scrape.
    public func addCollector(_ collect: @escaping @Sendable (any MetricsFactory) -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    /// The registry in Prometheus' text format (0.0.4), after the collectors ran.
    public func scrape() -> [UInt8] {
        for collect in collectors.withLock({ $0 }) { collect(factory) }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// The `/metrics` response.
    func response() -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: scrape())))
    }
}

/// Counts every HTTP request by route template, method and status, with a latency histogram.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        CoreMetrics.Counter(label: "guesthouse_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", String(response.status.code))],
                factory: factory).increment()
        CoreMetrics.Timer(label: "guesthouse_http_request_duration_seconds", dimensions: [("route", route), ("method", method)],
              factory: factory).recordInterval(since: start)
        return response
    }
}

extension CoreMetrics.Timer {
    /// Records the time since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
