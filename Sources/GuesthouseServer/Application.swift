import Foundation
import GuesthouseConfig
import GuesthouseCore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging

/// Builds the HTTP router: every API family, the health check and the OpenAPI document.
/// - Returns: the router and the document it serves (the same route table made both).
public func buildRouter(config: Config, directory: any HypervisorDirectory, authenticator: Authenticator,
                        machines: (any MachineProviders)? = nil,
                        containers: (any ContainerService)? = nil,
                        operations: OperationRegistry = OperationRegistry(),
                        eventHeartbeat: Duration = .seconds(15),
                        metrics: ServerMetrics? = nil,
                        audit: AuditLog? = nil) -> (Router<GuesthouseContext>, OpenAPIDocument) {
    let router = Router(context: GuesthouseContext.self)
    // Outermost, so it sees every answer, errors included, once the error middleware shaped them.
    if let metrics { router.add(middleware: RequestMetricsMiddleware(factory: metrics.factory)) }
    // Outside the error middleware too, so the audit sees the status it answers with.
    let audit = audit ?? AuditLog(logger: Logger(label: "guesthouse.audit"))
    router.add(middleware: AuditMiddleware(log: audit, clientAddress: ClientAddress(trustedProxies: config.server.trustedProxies)))
    let document = OpenAPIDocument(schemas: APISchemas.all.merging(ContainerRoutes.schemas) { a, _ in a })
    router.add(middleware: ErrorMiddleware(routes: document))
    let api = APIRoutes(router: router, document: document)

    var health = Operation(.get, "/healthz", id: "health", summary: "Liveness; needs no credentials", tag: "server",
                           success: (200, .object(["status": .string()])))
    health.authenticated = false
    api.add(health) { _, _ in HealthResponse.ok }

    SimplestackRoutes(directory: directory, authenticator: authenticator, operations: operations,
                      eventHeartbeat: eventHeartbeat).register(api)
    OperationRoutes(registry: operations).register(api)
    // One set of providers and one session codec for vmango's JSON API and its web pages.
    let providers = machines ?? NoMachineProviders()
    let sessions = config.server.sessionSecret.map(SessionCodec.init)
    VmangoRoutes(providers: providers, config: config, authenticator: authenticator, sessions: sessions,
                 operations: operations).register(api)
    WebRoutes(providers: providers, config: config, authenticator: authenticator, codec: sessions).register(router)
    if let containers { ContainerRoutes(service: containers, authenticator: authenticator).register(api) }
    AuditRoutes(log: audit, authenticator: authenticator).register(api)

    if let metrics {
        var scrape = Operation(.get, "/metrics", id: "metrics", summary: "Prometheus metrics (text format 0.0.4)",
                               tag: "server", success: (200, .string()))
        scrape.successMediaType = "text/plain"
        api.add(scrape) { request, _ in
            _ = try await authenticator.authenticate(try CredentialParsing.credentials(from: request))
            return metrics.response()
        }
    }

    var openapi = Operation(.get, "/openapi.json", id: "openapi", summary: "This document", tag: "server",
                            success: (200, .object([:])))
    openapi.authenticated = false
    let documentResponse = Locked<Data?>(nil)
    api.add(openapi) { _, _ in
        let data = documentResponse.withLock { cached in
            if let cached { return cached }
            let data = document.json()
            cached = data
            return data
        }
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
    return (router, document)
}

/// Builds the whole application for `config`: HTTPS when `tls` is given (`ServerTLS.configuration`),
/// plain HTTP otherwise.
public func buildApplication(config: Config, directory: any HypervisorDirectory, logger: Logger,
                             authenticator: Authenticator? = nil,
                             machines: (any MachineProviders)? = nil,
                             containers: (any ContainerService)? = nil,
                             operations: OperationRegistry = OperationRegistry(),
                             metrics: ServerMetrics? = nil,
                             tls: TLSConfiguration? = nil,
                             audit: AuditLog? = nil) throws -> some ApplicationProtocol {
    let authenticator = authenticator ?? Authenticator(config: config)
    let (router, _) = buildRouter(config: config, directory: directory, authenticator: authenticator,
                                  machines: machines, containers: containers, operations: operations, metrics: metrics,
                                  audit: audit)
    let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ExpectContinue()])
    return Application(
        router: router,
        server: try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0) } ?? .http1(configuration: http1),
        configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "guesthouse"),
        onServerRunning: { _ in SystemdNotify.send("READY=1") },  // systemd's Type=notify: listening now
        logger: logger)
}

/// `[server] metrics_listen`: `/metrics` alone, without credentials, on its own address (for a
/// Prometheus on a management network that must not hold API credentials).
public func buildMetricsApplication(host: String, port: Int, metrics: ServerMetrics,
                                    logger: Logger) -> some ApplicationProtocol {
    let router = Router()
    router.get("/metrics") { _, _ in metrics.response() }
    return Application(router: router,
                       configuration: .init(address: .hostname(host, port: port), serverName: "guesthouse-metrics"),
                       logger: logger)
}

enum HealthResponse {
    static var ok: Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
    }
}

/// The named schemas of the OpenAPI document.
enum APISchemas {
    static let all: [String: Schema] = [
        "Guest": SimplestackGuest.schema,
        "Pool": SimplestackPool.schema,
        "Host": SimplestackHost.schema,
        "Storage": SimplestackStorage.schema,
        "Action": SimplestackAction.schema,
        "Snapshot": SimplestackSnapshot.schema,
        "Disk": SimplestackDisk.schema,
        "NetworkInterface": SimplestackNIC.schema,
        "Network": SimplestackNetwork.schema,
        "Error": .object(["error": .string(enumeration: GuesthouseError.Kind.allCases.map(\.rawValue)),
                          "message": .string()], required: ["error", "message"]),
        "VmangoError": .object(["Error": .string()], required: ["Error"]),
        "AuditEntry": AuditRoutes.entrySchema,
        "Machine": VmangoSchemas.machine,
        "Image": VmangoSchemas.image,
        "Operation": OperationRoutes.schema,
        "ImageVolume": SimplestackRoutes.imageVolumeSchema,
    ]
}
