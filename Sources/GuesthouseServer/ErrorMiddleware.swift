import Foundation
import GuesthouseCore
import Hummingbird
import Logging

/// The one place where thrown errors become responses: every API family gets JSON in its own
/// shape (`{"error": CLASS, "message": ...}` for Simplestack, `{"Error": ...}` for vmango routes),
/// never an HTML page or a stack trace. Unknown errors are logged and answer a generic 500.
/// A path the route table has, asked with a method it lacks, answers 405 with an `Allow` header.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The route table, filled after this middleware is added (the router is built first).
    let routes: OpenAPIDocument

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            // Hummingbird's answer when no route has this path and method.
            guard let allowed = AllowedMethods.methods(for: request.uri.path, in: routes.operations),
                  !allowed.contains(request.method) else {
                return Self.response(for: .notFound("no route for \(request.method) \(request.uri.path)"),
                                     path: request.uri.path)
            }
            let names = allowed.map(\.rawValue).joined(separator: ", ")
            var response = Self.response(
                for: GuesthouseError(.methodNotAllowed, "\(request.uri.path) answers \(names), not \(request.method)"),
                path: request.uri.path)
            response.headers[.allow] = names
            return response
        } catch let error as GuesthouseError {
            RequestOrigin.current?.note(error: error)
            return Self.response(for: error, path: request.uri.path)
        } catch let error as HTTPError {
            let kind: GuesthouseError.Kind = switch error.status.code {
            case 404: .entityNotFound
            case 405: .methodNotAllowed
            case 401: .unauthorized
            case 403: .forbidden
            case 400, 413, 415: .invalidArguments
            default: .internalError
            }
            let message = error.body ?? (error.status.code == 404 ? "no route for \(request.method) \(request.uri.path)"
                                                                   : error.status.reasonPhrase)
            RequestOrigin.current?.note(error: GuesthouseError(kind, message))
            var response = Self.response(for: GuesthouseError(kind, message), path: request.uri.path)
            if error.status.code == 413 { response.status = .contentTooLarge }
            return response
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))",
                                                                 "path": "\(request.uri.path)"])
            return Self.response(for: GuesthouseError(.internalError, "internal error"), path: request.uri.path)
        }
    }

    /// The JSON error response for `error` on a route under `path`.
    static func response(for error: GuesthouseError, path: String) -> Response {
        if path.hasPrefix(ContainerRoutes.prefix + "/") { return ContainerRoutes.errorResponse(error) }
        let body: [String: String] = path.hasPrefix("/api/") && !path.hasPrefix("/api/container")
            ? ["Error": error.message]
            : ["error": error.kind.rawValue, "message": error.message]
        var response = JSONResponse.make(body, status: .init(code: error.httpStatus))
        error.decorate(&response)
        return response
    }
}

extension GuesthouseError {
    /// Adds the headers this error calls for: `WWW-Authenticate` for 401, `Retry-After` for 429.
    func decorate(_ response: inout Response) {
        if kind == .unauthorized { response.headers[.wwwAuthenticate] = "Basic realm=\"guesthouse\"" }
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
    }
}

/// Encodes JSON responses with `Content-Type: application/json`, lists included.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response; `etag` adds the `ETag` of its body (see `EntityTag`).
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, location: String? = nil,
                     etag: Bool = false) -> Response {
        let data = body(value)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let location { headers[.location] = location }
        if etag { headers[.eTag] = EntityTag.of(data) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The JSON bytes `make` sends for `value`.
    static func body(_ value: some Encodable) -> Data {
        (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
