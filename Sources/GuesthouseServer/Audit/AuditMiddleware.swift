import Foundation
import GuesthouseCore
import Hummingbird

/// Binds a `RequestOrigin` to each request (its client address resolved through `trusted_proxies`)
/// and, once answered, appends an audit entry for every change (any method but GET and HEAD) and
/// for every refusal (401, 403, 429) whatever the method. It sits outside `ErrorMiddleware`, so it
/// sees the status the client gets; the error's text comes from the origin's notes.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = GuesthouseContext
    let log: AuditLog
    let clientAddress: ClientAddress

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let change = request.method != .get && request.method != .head
        let origin = RequestOrigin(address: clientAddress.resolve(peer: context.remoteAddress?.ipAddress,
                                                                  forwardedFor: request.headers[.forwardedFor]),
                                   isChange: change)
        let response = try await RequestOrigin.$current.withValue(origin) {
            try await next(request, context)
        }
        let status = Int(response.status.code)
        guard change || [401, 403, 429].contains(status) else { return response }
        let notes = origin.snapshot
        let result: String
        if status < 400 {
            result = "ok"
        } else if let error = notes.error {
            result = error.description
        } else {
            result = response.status.reasonPhrase
        }
        log.record(AuditEntry(user: notes.user ?? "", interface: Self.interface(request.uri.path),
                              source: origin.address ?? "", action: "\(request.method) \(notes.route ?? request.uri.path)",
                              target: notes.target, result: result, status: status, token: notes.principal?.tokenID))
        return response
    }

    /// The interface a path belongs to.
    static func interface(_ path: String) -> String {
        if path.hasPrefix(ContainerRoutes.prefix + "/") || path == ContainerRoutes.prefix { return "containers" }
        if path.hasPrefix("/api/") { return "vmango" }
        if path.hasPrefix("/operations/") { return "operations" }
        if path == "/" || WebRoutes.prefixes.contains(where: path.hasPrefix) { return "web" }
        return "simplestack"
    }
}
