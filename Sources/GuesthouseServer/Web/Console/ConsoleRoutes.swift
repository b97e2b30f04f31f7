import Foundation
import GuesthouseCore
import Hummingbird
import HummingbirdWebSocket
import Logging
import Mustache

/// The browser consoles: a page per console (noVNC for a machine's VNC display, a terminal for a
/// serial console) and its websocket.
///
/// A websocket upgrade is decided on the websocket router (`webSocketRouter`): only a request that
/// passes the `ConsoleGate` is upgraded. Any other request to the same path reaches the plain
/// router, which answers the refusal (401 without a session, 403 from another origin, 404 for an
/// unknown machine) or 426 when everything is right but no upgrade was asked for.
struct ConsoleRoutes: Sendable {
    let gate: ConsoleGate
    let consoles: (any MachineConsoles)?
    let containerConsoles: (any ContainerConsoles)?
    let vendor: VendorFiles

    static let machinePage = "/machines/:provider/:id/console/:kind/"
    static let machineSocket = "/machines/:provider/:id/console/:kind/ws"
    static let containerPage = "/containers/:id/console/serial/"
    static let containerSocket = "/containers/:id/console/serial/ws"

    /// The pages, the glue scripts, the clients' files and the refusals, on the plain router.
    func register(_ router: Router<GuesthouseContext>) {
        ConsoleAssets.register(router)
        vendor.register(router)
        for (path, container) in [(Self.machinePage, false), (Self.containerPage, true)] {
            router.get(RouterPath(path)) { request, context in
                RequestOrigin.current?.note(route: path, parameters: context.parameters)
                return try await page(request, try ConsoleTarget.from(context.parameters, container: container))
            }
        }
        for (path, container) in [(Self.machineSocket, false), (Self.containerSocket, true)] {
            router.get(RouterPath(path)) { request, context in
                RequestOrigin.current?.note(route: path, parameters: context.parameters)
                let target = try ConsoleTarget.from(context.parameters, container: container)
                switch await gate.authorize(request, target) {
                case .failure(let refusal): return Self.plain(refusal.status, refusal.message)
                case .success: return Self.plain(.upgradeRequired, "this is a websocket: connect with an upgrade")
                }
            }
        }
    }

    /// The websocket routes, on a router of their own that only upgrade requests reach.
    func webSocketRouter() -> Router<ConsoleSocketContext> {
        let router = Router(context: ConsoleSocketContext.self)
        for (path, container) in [(Self.machineSocket, false), (Self.containerSocket, true)] {
            router.ws(RouterPath(path)) { request, context in
                guard let target = try? ConsoleTarget.from(context.parameters, container: container),
                      case .success = await gate.authorize(request, target) else { return .dontUpgrade }
                // Opened before the upgrade answers: once the browser sees the socket open, so is the console.
                context.handoff.set(await open(target))
                var headers: HTTPFields = [:]
                // noVNC asks for the `binary` subprotocol; it is the only one spoken here.
                let offered = request.headers[values: .secWebSocketProtocol]
                    .flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                if offered.contains("binary") { headers[.secWebSocketProtocol] = "binary" }
                return .upgrade(headers)
            } onUpgrade: { inbound, outbound, context in
                let opened = context.requestContext.handoff.take()
                    ?? .failure(GuesthouseError(.internalError, "the console was not opened"))
                try await ConsoleBridge.run(opened, inbound: inbound, outbound: outbound, logger: context.logger)
            }
        }
        return router
    }

    private func open(_ target: ConsoleTarget) async -> Result<any ConsoleConnection, GuesthouseError> {
        do {
            switch target {
            case .machine(let kind, let provider, let id):
                guard let consoles else { throw GuesthouseError(.featureNotImplemented, "these providers have no consoles") }
                return .success(try await consoles.openConsole(kind, provider: provider, id: id))
            case .container(let id):
                guard let containerConsoles else { throw GuesthouseError(.featureNotImplemented, "containers have no consoles here") }
                return .success(try await containerConsoles.openConsole(id: id))
            }
        } catch let error as GuesthouseError {
            return .failure(error)
        } catch {
            return .failure(GuesthouseError(.internalError, "the console could not be opened"))
        }
    }

    // MARK: - Pages

    private func page(_ request: Request, _ target: ConsoleTarget) async throws -> Response {
        guard gate.codec != nil else { return Self.plain(.notFound, "the web UI is off") }
        guard let cookie = request.cookies[WebSession.cookieName], let session = gate.codec?.decode(cookie.value) else {
            let next = request.uri.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "/"
            return Response(status: .seeOther, headers: [.location: "/login/?next=\(next)"])
        }
        // The lookups below are scoped by the session's user (`OwnedMachineProviders`).
        if let principal = gate.principal?(session) {
            RequestOrigin.current?.note(principal: principal)
        } else {
            RequestOrigin.current?.note(user: session.user)
        }
        let title: String
        switch target {
        case .machine(let kind, let provider, let id):
            let machine: Machine
            do {
                machine = try await gate.lookUpMachine(session, provider, id)
            } catch let error as GuesthouseError {
                return Self.plain(.init(code: error.httpStatus), error.message)
            }
            title = "\(kind == .vnc ? "Screen" : "Serial console") of \(machine.name)"
        case .container(let id):
            do {
                guard let containers = gate.containers else { throw GuesthouseError.notFound("containers are not configured") }
                _ = try await containers.container(id: id)
            } catch let error as GuesthouseError {
                return Self.plain(.init(code: error.httpStatus), error.message)
            }
            title = "Console of container \(id)"
        }
        let socket = target.pagePath + "ws"
        let text = Self.templates.render(["title": title, "socket": socket, "back": target.ownerPath,
                                          "vnc": target.kind == .vnc, "csrf": session.csrf, "user": session.user],
                                         withTemplate: "console") ?? ""
        return Response(status: .ok, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .init("X-Frame-Options")!: "DENY", .init("Content-Security-Policy")!: Self.contentSecurityPolicy,
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The web UI's policy, plus images from `data:`/`blob:` (noVNC draws its cursor from one).
    /// Scripts stay `'self'` only: no inline script, no eval.
    static let contentSecurityPolicy = WebRoutes.contentSecurityPolicy + "; img-src 'self' data: blob:"

    static func plain(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store",
                                           .init("X-Content-Type-Options")!: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    static let templates: MustacheLibrary = {
        var library = MustacheLibrary()
        library.register(try! MustacheTemplate(string: """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{title}} · Guesthouse</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="stylesheet" href="/static/guesthouse.css">
        <link rel="stylesheet" href="\(ConsoleAssets.cssPath)" id="term-style">
        {{#vnc}}<script type="module" src="\(ConsoleAssets.vncPath)"></script>{{/vnc}}
        {{^vnc}}<script src="\(VendorFiles.termScript)"></script><script src="\(ConsoleAssets.serialPath)" defer></script>{{/vnc}}
        </head><body class="console-page">
        <header><strong>Guesthouse</strong><nav aria-label="Console"><a href="{{back}}">Back</a></nav>
        <span id="console-status" role="status" aria-live="polite">Connecting…</span></header>
        <main id="main"><h1>{{title}}</h1>
        <div id="console" class="console {{#vnc}}console-vnc{{/vnc}}{{^vnc}}console-serial{{/vnc}}" data-socket="{{socket}}" data-state="connecting" tabindex="0" aria-label="{{title}}"></div>
        </main></body></html>
        """), named: "console")
        return library
    }()
}

/// The request context of the websocket router: what the upgrade check opened, for the handler.
public struct ConsoleSocketContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<ConsoleSocketContext>
    let handoff = ConsoleHandoff()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
    }
}

/// Carries the console opened while deciding the upgrade to the websocket handler. Dropped
/// unclaimed (the upgrade did not happen), the console closes when it is released.
final class ConsoleHandoff: Sendable {
    private let value = Locked<Result<any ConsoleConnection, GuesthouseError>?>(nil)

    func set(_ result: Result<any ConsoleConnection, GuesthouseError>) { value.withLock { $0 = result } }
    func take() -> Result<any ConsoleConnection, GuesthouseError>? {
        value.withLock { current in
            defer { current = nil }
            return current
        }
    }
}
