import Foundation
import GuesthouseCore
import Hummingbird

/// Whose console a request names: a machine's (serial or VNC) or a container's (serial).
enum ConsoleTarget: Sendable, Equatable {
    case machine(kind: ConsoleKind, provider: String, id: String)
    case container(id: Int)

    var kind: ConsoleKind {
        switch self {
        case .machine(let kind, _, _): kind
        case .container: .serial
        }
    }

    /// The page the console is shown on.
    var pagePath: String {
        switch self {
        case .machine(let kind, let provider, let id): "/machines/\(provider)/\(id)/console/\(kind.rawValue)/"
        case .container(let id): "/containers/\(id)/console/serial/"
        }
    }

    /// The page of what the console belongs to.
    var ownerPath: String {
        switch self {
        case .machine(_, let provider, let id): "/machines/\(provider)/\(id)/"
        case .container(let id): "/containers/\(id)/"
        }
    }

    /// The target a websocket path names (`/machines/P/ID/console/KIND/ws`, `/containers/N/console/serial/ws`),
    /// or nil for any other path.
    init?(socketPath uri: String) {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        if parts.count == 7, parts[0].isEmpty, parts[1] == "machines", parts[4] == "console", parts[6] == "ws",
           let kind = ConsoleKind(rawValue: parts[5]) {
            self = .machine(kind: kind, provider: parts[2], id: parts[3])
        } else if parts.count == 6, parts[0].isEmpty, parts[1] == "containers", parts[3] == "console",
                  parts[4] == "serial", parts[5] == "ws", let id = Int(parts[2]), id >= 0 {
            self = .container(id: id)
        } else {
            return nil
        }
    }

    /// The target a route's parameters name (`:provider/:id/console/:kind`, or `:id` for a container).
    static func from(_ parameters: Parameters, container: Bool) throws -> ConsoleTarget {
        if container {
            guard let id = Int(try parameters.require("id")), id >= 0 else {
                throw GuesthouseError.notFound("no such container")
            }
            return .container(id: id)
        }
        guard let kind = ConsoleKind(rawValue: try parameters.require("kind")) else {
            throw GuesthouseError.notFound("no such console")
        }
        return .machine(kind: kind, provider: try parameters.require("provider"), id: try parameters.require("id"))
    }
}

/// Decides whether a request may open a console: a valid web session (the cookie), a browser on
/// this server's own origin (`Origin` must name the `Host` it asked), and a machine the session's
/// user may act on, found through the same lookup the machine's page uses (`WebRoutes.lookUpMachine`).
struct ConsoleGate: Sendable {
    /// The web UI's one machine lookup (`WebRoutes.lookUpMachine`): a per-user check made there
    /// applies to the consoles too.
    let lookUpMachine: @Sendable (WebSession, _ provider: String, _ id: String) async throws -> Machine
    let containers: (any ContainerService)?
    let codec: SessionCodec?
    let usesTLS: Bool
    /// Who a session acts as: the lookups below run as that principal, so the ownership layer
    /// (`OwnedMachineProviders`, `OwnedContainerService`) scopes them even outside the router.
    var principal: (@Sendable (WebSession) -> Principal)? = nil

    /// Why a console is refused, as the HTTP status and a short text (no secret in it).
    struct Refusal: Error, Sendable {
        var status: HTTPResponse.Status
        var message: String
    }

    /// The user when the request may open `target`'s console; a `Refusal` otherwise.
    func authorize(_ request: Request, _ target: ConsoleTarget) async -> Result<WebSession, Refusal> {
        await authorize(cookie: request.headers[.cookie], origin: request.headers[.origin],
                        authority: request.head.authority, target)
    }

    /// `authorize` from the raw header values (the upgrade screen sees no `Request`).
    func authorize(cookie: String?, origin: String?, authority: String?, _ target: ConsoleTarget) async
        -> Result<WebSession, Refusal> {
        guard let codec else { return .failure(Refusal(status: .notFound, message: "the web UI is off")) }
        guard let value = Self.cookie(WebSession.cookieName, in: cookie), let session = codec.decode(value) else {
            return .failure(Refusal(status: .unauthorized, message: "log in first"))
        }
        guard Self.isSameOrigin(origin: origin, authority: authority, usesTLS: usesTLS) else {
            return .failure(Refusal(status: .forbidden, message: "a console opens only from this server's own pages"))
        }
        do {
            try await Ownership.acting(as: principal?(session)) {
                switch target {
                case .machine(_, let provider, let id):
                    _ = try await lookUpMachine(session, provider, id)
                case .container(let id):
                    guard let containers else { throw GuesthouseError.notFound("containers are not configured") }
                    _ = try await containers.container(id: id)
                }
            }
        } catch let error as GuesthouseError {
            return .failure(Refusal(status: .init(code: error.httpStatus), message: error.message))
        } catch {
            return .failure(Refusal(status: .badGateway, message: "unavailable"))
        }
        return .success(session)
    }

    /// The value of cookie `name` in a `Cookie` header (`a=1; b=2`).
    static func cookie(_ name: String, in header: String?) -> String? {
        for pair in (header ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Whether the request's `Origin` is this server as the browser reached it: the same
    /// host and port as `Host`, over https when the server speaks TLS. A missing `Origin` (no
    /// browser sends a websocket without one) is refused.
    static func isSameOrigin(_ request: Request, usesTLS: Bool) -> Bool {
        isSameOrigin(origin: request.headers[.origin], authority: request.head.authority, usesTLS: usesTLS)
    }

    static func isSameOrigin(origin: String?, authority: String?, usesTLS: Bool) -> Bool {
        guard let origin = origin?.lowercased(), let host = authority?.lowercased(), !host.isEmpty else { return false }
        let allowed = usesTLS ? ["https://" + host] : ["http://" + host, "https://" + host]
        return allowed.contains(origin)
    }
}
