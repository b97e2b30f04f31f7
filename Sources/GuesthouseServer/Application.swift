import Foundation
import GuesthouseConfig
import GuesthouseCore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging

/// Builds the HTTP router: every API family, the health check and the OpenAPI document.
/// - Returns: the router (with guest info's shortcut in front, `GuestInfoShortcut`) and the document
///   it serves (the same route table made both).
public func buildRouter(config: Config, directory: any HypervisorDirectory, authenticator: Authenticator,
                        machines: (any MachineProviders)? = nil,
                        containers: (any ContainerService)? = nil,
                        operations: OperationRegistry = OperationRegistry(),
                        eventHeartbeat: Duration = .seconds(15),
                        metrics: ServerMetrics? = nil,
                        audit: AuditLog? = nil) -> (GuesthouseRouter, OpenAPIDocument) {
    let router = Router(context: GuesthouseContext.self)
    // Outermost, so it sees every answer, errors included, once the error middleware shaped them.
    if let metrics { router.add(middleware: RequestMetricsMiddleware(factory: metrics.factory)) }
    // Outside the error middleware too, so the audit sees the status it answers with.
    let audit = audit ?? AuditLog(logger: Logger(label: "guesthouse.audit"))
    router.add(middleware: AuditMiddleware(log: audit, clientAddress: ClientAddress(trustedProxies: config.server.trustedProxies)))
    let families = directory.familyNames
    let providerNames = (machines ?? NoMachineProviders()).providerNames.sorted()
    let document = OpenAPIDocument(
        schemas: APISchemas.all.merging(ContainerRoutes.schemas) { a, _ in a },
        pathParameters: [
            "hypervisor": families.isEmpty ? .string() : .string(description: "the hypervisor family", enumeration: families),
            "host": .text(description: "localhost, or a host [simplestack] hosts allows",
                          length: 1...Validation.hostMaxLength, pattern: Validation.hostPattern),
            "provider": providerNames.isEmpty ? .string()
                : .string(description: "a configured provider", enumeration: providerNames),
        ])
    router.add(middleware: ErrorMiddleware(routes: document))
    let api = APIRoutes(router: router, document: document, endpoints: Endpoints(["guestInfo"]))

    var health = Operation(.get, "/healthz", id: "health", summary: "Liveness; needs no credentials", tag: "server",
                           success: (200, .object(["status": .string()])))
    health.authenticated = false
    api.add(health) { _, _ in HealthResponse.ok }

    // One set of providers and one session codec for vmango's JSON API and its web pages. Every
    // machine lookup goes through the ownership (and quota) layer, so members see only their own.
    let providers = OwnedMachineProviders(machines ?? NoMachineProviders())
    SimplestackRoutes(directory: directory, authenticator: authenticator, operations: operations,
                      eventHeartbeat: eventHeartbeat, quotas: providers.quotas).register(api)
    OperationRoutes(registry: operations, authenticator: authenticator).register(api)
    let sessions = config.server.sessionSecret.map(SessionCodec.init)
    VmangoRoutes(providers: providers, config: config, authenticator: authenticator, sessions: sessions,
                 operations: operations).register(api)
    // Containers, like machines, are looked up through the ownership layer by the API and the pages.
    let ownedContainers = containers.map { OwnedContainerService(inner: $0) as any ContainerService }
    WebRoutes(providers: providers, config: config, authenticator: authenticator, codec: sessions,
              containers: ownedContainers, audit: audit).register(router)
    consoleRoutes(config: config, authenticator: authenticator, machines: machines, containers: containers)
        .register(router)
    if let ownedContainers { ContainerRoutes(service: ownedContainers, authenticator: authenticator).register(api) }
    AuditRoutes(log: audit, authenticator: authenticator).register(api)

    if let metrics {
        var scrape = Operation(.get, "/metrics", id: "metrics", summary: "Prometheus metrics (text format 0.0.4)",
                               tag: "server", success: (200, .string()))
        scrape.successMediaType = "text/plain"
        api.add(scrape) { request, _ in
            try await authenticator.authenticate(request).requireAdmin("metrics")
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
    return (GuesthouseRouter(router: router, guestInfo: api.endpoints?["guestInfo"].map(GuestInfoShortcut.init)),
            document)
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
    // Console websockets: upgrades are decided on a router of their own (refusals fall through to `router`).
    // `ExpectContinue` answers `Expect: 100-continue` at once, so uploads start without curl's 1 s wait.
    let http = HTTPServerBuilder.http1Consoles(consoleRoutes(config: config, authenticator: authenticator, machines: machines,
                                                             containers: containers),
                                               additionalChannelHandlers: { [ExpectContinue()] })
    return Application(
        router: router,
        server: try tls.map { try .tls(http, tlsConfiguration: $0) } ?? http,
        configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "guesthouse"),
        onServerRunning: { _ in SystemdNotify.send("READY=1") },  // systemd's Type=notify: listening now
        logger: logger)
}

/// The consoles' routes for these providers and containers (the same on the plain and the websocket router).
func consoleRoutes(config: Config, authenticator: Authenticator, machines: (any MachineProviders)?,
                   containers: (any ContainerService)?) -> ConsoleRoutes {
    let codec = config.server.sessionSecret.map(SessionCodec.init)
    // The same ownership layer as the pages and the APIs; the gate acts as the session's user (a
    // websocket upgrade is decided outside the router, where no request origin is bound).
    let ownedContainers = containers.map { OwnedContainerService(inner: $0) as any ContainerService }
    let pages = WebRoutes(providers: OwnedMachineProviders(machines ?? NoMachineProviders()), config: config,
                          authenticator: authenticator, codec: codec, containers: ownedContainers)
    let gate = ConsoleGate(lookUpMachine: { session, provider, id in
                               try await pages.lookUpMachine(session, provider: provider, id: id)
                           },
                           containers: ownedContainers, codec: codec, usesTLS: config.server.usesTLS,
                           principal: { authenticator.principal($0.user) })
    return ConsoleRoutes(gate: gate, consoles: machines as? any MachineConsoles,
                         containerConsoles: containers as? any ContainerConsoles, vendor: VendorFiles())
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
