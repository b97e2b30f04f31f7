import Foundation
import Hummingbird

/// One documented operation: the route table entry that both registers the handler and writes
/// the OpenAPI document, so the document cannot drift from the server.
public struct Operation: Sendable {
    public var method: HTTPRequest.Method
    /// The path in OpenAPI form, e.g. `/{hypervisor}/{host}/guests/{id}`.
    public var path: String
    public var id: String
    public var summary: String
    public var tag: String
    public var requestBody: Schema?
    /// Whether the request body must be sent (false: the route also takes none, e.g. reboot).
    public var requestBodyRequired = true
    /// The media type of the request body.
    public var requestMediaType = "application/json"
    /// Success status and schema (nil: no body).
    public var success: (Int, Schema?)
    /// Error statuses this operation may answer besides 401 and 500.
    public var errors: [Int]
    /// Whether credentials are required.
    public var authenticated = true
    public var successMediaType = "application/json"
    /// Optional query parameters: name and description.
    public var queryParameters: [(name: String, description: String)] = []
    /// Whether `Prefer: respond-async` turns the call into a 202 and an operation.
    public var acceptsAsync = false
    /// Whether the success answer carries an `ETag` (see `EntityTag`).
    public var etag: Bool
    /// Whether the operation honours `If-Match` (and may answer 412).
    public var ifMatch: Bool

    public init(_ method: HTTPRequest.Method, _ path: String, id: String, summary: String, tag: String,
                body: Schema? = nil, bodyRequired: Bool = true, success: (Int, Schema?), errors: [Int] = [],
                etag: Bool = false, ifMatch: Bool = false) {
        self.method = method
        self.path = path
        self.id = id
        self.summary = summary
        self.tag = tag
        self.requestBody = body
        self.requestBodyRequired = bodyRequired
        self.success = success
        self.errors = errors
        self.etag = etag
        self.ifMatch = ifMatch
    }

    /// The path in Hummingbird's form (`:name` instead of `{name}`).
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : String(part)
        }.joined(separator: "/")
    }

    var parameterNames: [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }
}

/// The OpenAPI 3 document of every JSON route, built from the same `Operation`s the router serves.
public final class OpenAPIDocument: @unchecked Sendable {
    private(set) var operations: [Operation] = []
    private let schemas: [String: Schema]

    init(schemas: [String: Schema]) {
        self.schemas = schemas
    }

    func add(_ operation: Operation) {
        operations.append(operation)
    }

    /// Every documented (method, path) pair, in OpenAPI path form.
    public var routes: [(method: String, path: String)] {
        operations.map { ($0.method.rawValue, $0.path) }
    }

    /// The document as JSON.
    public func json() -> Data {
        var paths: [String: [String: Any]] = [:]
        for op in operations {
            var entry: [String: Any] = [
                "operationId": op.id, "summary": op.summary, "tags": [op.tag],
            ]
            var parameters: [[String: Any]] = op.parameterNames.map {
                ["name": $0, "in": "path", "required": true, "schema": ["type": "string"]]
            } + op.queryParameters.map {
                ["name": $0.name, "in": "query", "required": false, "description": $0.description,
                 "schema": ["type": "string"]]
            }
            if op.acceptsAsync {
                parameters.append(["name": "Prefer", "in": "header", "schema": ["type": "string", "enum": ["respond-async"]],
                                   "description": "respond-async: answer 202 with Location /operations/{id} (RFC 7240)"])
            }
            if op.ifMatch {
                parameters.append([
                    "name": "If-Match", "in": "header", "required": false, "schema": ["type": "string"],
                    "description": "ETags of the resource's GET; the change is made only while one still matches "
                        + "(else 412 PreconditionFailed). `*` or no header: no precondition.",
                ])
            }
            if !parameters.isEmpty { entry["parameters"] = parameters }
            if let body = op.requestBody {
                entry["requestBody"] = ["required": op.requestBodyRequired, "content": [op.requestMediaType: ["schema": body.json]]]
            }
            var responses: [String: Any] = [:]
            let (status, schema) = op.success
            var success: [String: Any] = ["description": "success"]
            if let schema { success["content"] = [op.successMediaType: ["schema": schema.json]] }
            if op.etag {
                success["headers"] = ["ETag": ["description": "a strong tag of this representation, for If-Match",
                                               "schema": ["type": "string"]]]
            }
            responses[String(status)] = success
            if op.acceptsAsync {
                responses["202"] = [
                    "description": "Accepted (Prefer: respond-async): the operation's status; Location names it",
                    "content": ["application/json": ["schema": Schema.ref("Operation").json]],
                ]
            }
            let errorStatuses = (op.authenticated ? [401, 403, 429] : []) + op.errors + (op.ifMatch ? [412] : []) + [500]
            for code in Set(errorStatuses).sorted() {
                let schemaName = op.path.hasPrefix("/api/container") ? "ContainerError"
                    : op.path.hasPrefix("/api/") ? "VmangoError" : "Error"
                responses[String(code)] = [
                    "description": Self.describe(code),
                    "content": ["application/json": ["schema": Schema.ref(schemaName).json]],
                ]
            }
            entry["responses"] = responses
            if op.authenticated {
                entry["security"] = [["simplestackToken": []], ["basic": []], ["vmangoUser": [], "vmangoPass": []],
                                     ["bearer": []]]
            } else {
                entry["security"] = [[String: Any]]()
            }
            paths[op.path, default: [:]][op.method.rawValue.lowercased()] = entry
        }
        let document: [String: Any] = [
            "openapi": "3.0.3",
            "info": ["title": "Guesthouse", "version": "0.1.0",
                     "description": "Guests (VMs and containers) on many hypervisor hosts through libvirt."],
            "paths": paths,
            "components": [
                "schemas": schemas.mapValues(\.json),
                "securitySchemes": [
                    "simplestackToken": ["type": "apiKey", "in": "header", "name": "x-simplestack-hypervisor-token",
                                         "description": "base64 of user:password"],
                    "basic": ["type": "http", "scheme": "basic"],
                    "bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "an API token from `guesthouse token create`"],
                    "vmangoUser": ["type": "apiKey", "in": "header", "name": "X-Vmango-User"],
                    "vmangoPass": ["type": "apiKey", "in": "header", "name": "X-Vmango-Pass"],
                ],
            ],
        ]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
    }

    private static func describe(_ code: Int) -> String {
        switch code {
        case 400: "InvalidArguments: bad or missing input"
        case 401: "Unauthorized: missing or wrong credentials"
        case 403: "Forbidden: the host may not be reached, the user's role or quota does not allow it, or the API token is read-only"
        case 404: "EntityNotFound"
        case 409: "OperationNotAllowed: the guest's state does not allow it"
        case 412: "PreconditionFailed: If-Match no longer matches the resource"
        case 501: "FeatureNotImplemented: the hypervisor cannot do it"
        case 502: "HypervisorError: the hypervisor failed or cannot be reached"
        default: "internal error"
        }
    }
}

/// Registers documented operations on a Hummingbird router.
public struct APIRoutes<Context: RequestContext> {
    let router: Router<Context>
    let document: OpenAPIDocument

    /// Adds the handler for `operation` to the router and the operation to the document.
    func add(_ operation: Operation,
             _ handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        document.add(operation)
        let route = operation.path
        router.on(RouterPath(operation.routerPath), method: operation.method) { request, context in
            RequestOrigin.current?.note(route: route, parameters: context.parameters)
            return try await handler(request, context)
        }
    }
}

extension Operation {
    /// The same operation, documented as answering 202 with an operation for `Prefer: respond-async`.
    func acceptingAsync() -> Operation {
        var copy = self
        copy.acceptsAsync = true
        return copy
    }
}
